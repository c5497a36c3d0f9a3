// npm run diff v02 v03 [path]: what one version adds to another, as a unified diff of their
// folders, code first and the README last. A path (a folder or file inside a version, e.g.
// client or auth-server/token.ts) narrows the diff to it. Colour on a terminal, plain text
// when piped (so `npm run diff v02 v03 > pkce.diff` works).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findVersion, repoRoot, unknownVersionMessage } from './versions.mjs';

const [from, to, only = ''] = process.argv.slice(2);
if (!from || !to) {
  console.error('Usage: npm run diff v02 v03 [path]   (short or full version names)');
  process.exit(1);
}
for (const name of [from, to]) {
  if (!findVersion(name)) {
    console.error(unknownVersionMessage(name));
    process.exit(1);
  }
}
const sides = [from, to].map((name) => path.join('versions', findVersion(name)!, only));
if (path.isAbsolute(only) || only.split(/[\\/]/).includes('..')) {
  console.error(`The path must lie inside the version folders: ${only}`);
  process.exit(1);
}
if (!sides.some((side) => existsSync(path.join(repoRoot, side)))) {
  console.error(`Neither version has ${only}.`);
  process.exit(1);
}

// Code first, then views and styles, and the README last: the lesson before its summary.
const orderFile = path.join(mkdtempSync(path.join(tmpdir(), 'oauth-lab-diff-')), 'order');
writeFileSync(orderFile, ['*.ts', '*.ejs', '*.css', '*.json', '*.md', ''].join('\n'));

const color = process.stdout.isTTY && !process.env.NO_COLOR ? 'always' : 'never';
const exists = (side: string) => existsSync(path.join(repoRoot, side));
// git diff --no-index works outside a repository too, and knows renames and colour. A file
// new in this version is compared with /dev/null; so is each file of a new folder.
const [older, newer] = sides as [string, string];
const pairs: Array<[string, string]> =
  exists(older) && exists(newer)
    ? [[older, newer]]
    : filesIn(exists(older) ? older : newer).map((file) =>
        exists(older) ? [file, '/dev/null'] : ['/dev/null', file],
      );
for (const pair of pairs) {
  const result = spawnSync(
    'git',
    // -M30%: a file moved to another app and changed there (v06's API) still shows as a move.
    [
      'diff',
      '--no-index',
      `--color=${color}`,
      `-O${orderFile}`,
      '-M30%',
      '--stat',
      '--patch',
      ...pair,
    ],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  if (result.error) {
    console.error(`Could not run git: ${result.error.message}`);
    process.exit(2);
  }
  // git diff exits 1 when the sides differ, which is the expected case here.
  if (result.status !== 0 && result.status !== 1) process.exit(result.status ?? 2);
}

/** A file, or every file below a folder, relative to the repository. */
function filesIn(side: string): string[] {
  if (!statSync(path.join(repoRoot, side)).isDirectory()) return [side];
  return readdirSync(path.join(repoRoot, side))
    .sort()
    .flatMap((name) => filesIn(path.join(side, name)));
}

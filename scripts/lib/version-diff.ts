// The diff between two version folders, as `npm run diff` shows it and docs/diffs/ keeps it:
// code first, then views and styles, the README last; a file moved to another app still shows
// as a move. Plain text unless `color` is set.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../versions.mjs';

/** `only`: a folder or file inside both versions (e.g. client), or '' for everything. */
export function versionDiff(
  from: string,
  to: string,
  only = '',
  { color = false }: { color?: boolean } = {},
): string {
  const [older, newer] = [from, to].map((version) => path.join('versions', version, only)) as [
    string,
    string,
  ];
  // Code first, then views and styles, and the README last: the lesson before its summary.
  const orderFile = path.join(mkdtempSync(path.join(tmpdir(), 'oauth-lab-diff-')), 'order');
  writeFileSync(orderFile, ['*.ts', '*.ejs', '*.css', '*.json', '*.md', ''].join('\n'));
  const exists = (side: string) => existsSync(path.join(repoRoot, side));
  // git diff --no-index works outside a repository too, and knows renames and colour. A file
  // new in this version is compared with /dev/null; so is each file of a new folder.
  const pairs: Array<[string, string]> =
    exists(older) && exists(newer)
      ? [[older, newer]]
      : filesIn(exists(older) ? older : newer).map((file) =>
          exists(older) ? [file, '/dev/null'] : ['/dev/null', file],
        );
  return pairs
    .map((pair) => {
      const result = spawnSync(
        'git',
        // -M30%: a file moved to another app and changed there (v06's API) still shows as a move.
        [
          'diff',
          '--no-index',
          `--color=${color ? 'always' : 'never'}`,
          `-O${orderFile}`,
          '-M30%',
          '--stat=100',
          '--patch',
          ...pair,
        ],
        { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (result.error) throw new Error(`Could not run git: ${result.error.message}`);
      // git diff exits 1 when the sides differ, which is the expected case here.
      if (result.status !== 0 && result.status !== 1) {
        throw new Error(`git diff failed (${result.status}): ${result.stderr}`);
      }
      return result.stdout;
    })
    .join('');
}

/** A file, or every file below a folder, relative to the repository. */
function filesIn(side: string): string[] {
  if (!statSync(path.join(repoRoot, side)).isDirectory()) return [side];
  return readdirSync(path.join(repoRoot, side))
    .sort()
    .flatMap((name) => filesIn(path.join(side, name)));
}

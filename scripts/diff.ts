// npm run diff v02 v03: what one version adds to another, as a unified diff of their folders.
// Colour on a terminal, plain text when piped (so `npm run diff v02 v03 > pkce.diff` works).

import { spawnSync } from 'node:child_process';
import { findVersion, repoRoot, unknownVersionMessage } from './versions.ts';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('Usage: npm run diff v02 v03   (short or full version names)');
  process.exit(1);
}
for (const name of [from, to]) {
  if (!findVersion(name)) {
    console.error(unknownVersionMessage(name));
    process.exit(1);
  }
}

const color = process.stdout.isTTY && !process.env.NO_COLOR ? 'always' : 'never';
// git diff --no-index works outside a repository too, and knows renames and colour.
const result = spawnSync(
  'git',
  [
    'diff',
    '--no-index',
    `--color=${color}`,
    '--stat',
    '--patch',
    `versions/${findVersion(from)}`,
    `versions/${findVersion(to)}`,
  ],
  { cwd: repoRoot, stdio: 'inherit' },
);
if (result.error) {
  console.error(`Could not run git: ${result.error.message}`);
  process.exit(2);
}
// git diff exits 1 when the folders differ, which is the expected case here.
process.exit(result.status === 0 || result.status === 1 ? 0 : (result.status ?? 2));

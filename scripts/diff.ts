// npm run diff v02 v03 [path]: what one version adds to another, as a unified diff of their
// folders, code first and the README last. A path (a folder or file inside a version, e.g.
// client or auth-server/token.ts) narrows the diff to it. Colour on a terminal, plain text
// when piped (so `npm run diff v02 v03 > pkce.diff` works).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { versionDiff } from './lib/version-diff.ts';
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

const color = process.stdout.isTTY && !process.env.NO_COLOR;
try {
  process.stdout.write(versionDiff(findVersion(from)!, findVersion(to)!, only, { color }));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

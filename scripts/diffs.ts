// npm run diffs: write docs/diffs/vNN-vMM.diff for every pair of adjacent versions, the diff
// `npm run diff` shows, so a reader can read each lesson on the repository's page without a
// clone. With --check (part of `npm run check`): fail when a committed diff is out of date.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { versionDiff } from './lib/version-diff.ts';
import { listVersions, repoRoot } from './versions.mjs';

const dir = path.join(repoRoot, 'docs', 'diffs');
const check = process.argv.includes('--check');

/** The file name of a pair's diff: v02-v03.diff. */
export const diffName = (from: string, to: string) => `${from.slice(0, 3)}-${to.slice(0, 3)}.diff`;

const versions = listVersions();
const wanted = new Map(
  versions.slice(1).map((to, i) => [diffName(versions[i]!, to), versionDiff(versions[i]!, to)]),
);
const present = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.diff')) : [];

if (check) {
  const stale = [...wanted].filter(
    ([name, diff]) =>
      !existsSync(path.join(dir, name)) || readFileSync(path.join(dir, name), 'utf8') !== diff,
  );
  const extra = present.filter((name) => !wanted.has(name));
  for (const [name] of stale) console.error(`docs/diffs/${name} is out of date: npm run diffs`);
  for (const name of extra) console.error(`docs/diffs/${name} belongs to no pair of versions`);
  if (stale.length + extra.length > 0) process.exit(1);
  console.log(`ok   docs/diffs: ${wanted.size} diffs current`);
} else {
  mkdirSync(dir, { recursive: true });
  for (const name of present) if (!wanted.has(name)) rmSync(path.join(dir, name));
  for (const [name, diff] of wanted) writeFileSync(path.join(dir, name), diff);
  console.log(`wrote ${wanted.size} diffs to docs/diffs/`);
}

// docs/diffs/: the diff of every pair of adjacent versions, committed so a repository page shows
// each lesson without a clone. `npm run diffs` writes them; `npm run check` fails when one is
// out of date, or when one belongs to no pair of versions.

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { versionDiff } from '../scripts/lib/version-diff.ts';
import { listVersions, repoRoot } from '../scripts/versions.mjs';

const dir = path.join(repoRoot, 'docs', 'diffs');
const check = () =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/diffs.ts', '--check'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });

describe('docs/diffs', () => {
  it('holds the current diff of every pair of adjacent versions, code before the README', () => {
    const versions = listVersions();
    for (const [i, to] of versions.slice(1).entries()) {
      const from = versions[i]!;
      const file = path.join(dir, `${from.slice(0, 3)}-${to.slice(0, 3)}.diff`);
      const diff = readFileSync(file, 'utf8');
      expect(diff).toBe(versionDiff(from, to));
      const files = [...diff.matchAll(/^diff --git a\/(\S+)/gm)].map((match) => match[1]!);
      expect(files.at(-1)).toMatch(/README\.md$/);
      expect(files[0]).toMatch(/\.ts$/);
    }
    const result = check();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('the check fails on a stale diff and on one that belongs to no pair', () => {
    const [first] = listVersions();
    const name = `${first!.slice(0, 3)}-v02.diff`;
    const original = readFileSync(path.join(dir, name), 'utf8');
    const stray = path.join(dir, 'v00-v01.diff');
    try {
      writeFileSync(path.join(dir, name), `${original}\n`);
      writeFileSync(stray, '');
      const result = check();
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`docs/diffs/${name} is out of date: npm run diffs`);
      expect(result.stderr).toContain('docs/diffs/v00-v01.diff belongs to no pair of versions');
    } finally {
      writeFileSync(path.join(dir, name), original);
      rmSync(stray, { force: true });
    }
  });
});

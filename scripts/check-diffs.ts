// npm run check's diff check: the diff between two adjacent versions must show their feature
// and nothing else. A hunk whose removed and added lines differ only in white space (code
// re-wrapped or re-indented, not changed) is noise a reader must wade through: it fails here.
// The fix is to give that code its final shape in the earlier version.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { listVersions, repoRoot } from './versions.mjs';

export interface Hunk {
  file: string;
  header: string;
  removed: string[];
  added: string[];
}

/** The hunks of a unified diff with no context lines (git diff -U0). */
export function hunksOf(diff: string): Hunk[] {
  const hunks: Hunk[] = [];
  let file = '';
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) file = line.slice(4).replace(/^b\//, '');
    else if (line.startsWith('@@')) hunks.push({ file, header: line, removed: [], added: [] });
    else if (line.startsWith('-') && !line.startsWith('--- '))
      hunks.at(-1)?.removed.push(line.slice(1));
    else if (line.startsWith('+')) hunks.at(-1)?.added.push(line.slice(1));
  }
  return hunks;
}

/** A hunk that changes lines without changing anything but their white space. */
export function whitespaceOnly({ removed, added }: Hunk): boolean {
  const squash = (lines: string[]) => lines.join('').replace(/\s+/g, '');
  return removed.length > 0 && added.length > 0 && squash(removed) === squash(added);
}

function diffOf(older: string, newer: string): string {
  const result = spawnSync(
    'git',
    [
      'diff',
      '--no-index',
      '--no-color',
      '-U0',
      path.join('versions', older),
      path.join('versions', newer),
    ],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0 && result.status !== 1) throw new Error(result.stderr);
  return result.stdout;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const versions = listVersions();
  let failed = false;
  for (let i = 1; i < versions.length; i++) {
    const [older, newer] = [versions[i - 1]!, versions[i]!];
    const noise = hunksOf(diffOf(older, newer)).filter(whitespaceOnly);
    for (const hunk of noise) console.log(`  ${hunk.file} ${hunk.header}`);
    console.log(
      `${noise.length === 0 ? 'ok  ' : 'FAIL'} diff ${older.slice(0, 3)} ${newer.slice(0, 3)}: ${noise.length} whitespace-only hunks`,
    );
    failed ||= noise.length > 0;
  }
  process.exit(failed ? 1 : 0);
}

// The attack matrix, proven: `npm run attacks -- --json` runs every attack against every
// version, for real, and docs/attacks.md must carry the same table, name for each attack the
// version that stops it first, and every attack must keep to its fixedIn in scripts/attack.ts:
// it works in the version just before (unless there is nothing to attack there), and is refused
// in fixedIn and every version after. Some 130 runs, a few at a time: about 20 s on its own.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { attacks } from '../scripts/attack.ts';
import { cellText, type Matrix } from '../scripts/attacks.ts';
import { listVersions, repoRoot } from '../scripts/versions.mjs';

/** Run `npm run attacks -- --json` (without npm): the matrix, whatever the exit code. */
function runMatrix(): Promise<Matrix> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/attacks.ts', '--json', '--jobs', '3'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as Matrix);
      } catch {
        reject(new Error(`npm run attacks exited ${code}:\n${stderr}\n${stdout.slice(0, 2000)}`));
      }
    });
  });
}

/** The first markdown table of `markdown`: its header cells, and each row's cells. */
function firstTable(markdown: string): { header: string[]; rows: string[][] } {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const table: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    table.push(
      line
        .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  const [header = [], , ...rows] = table; // the second line is the |---| separator
  return { header, rows };
}

const doc = readFileSync(path.join(repoRoot, 'docs', 'attacks.md'), 'utf8');
let matrix: Matrix;

beforeAll(async () => {
  matrix = await runMatrix();
}, 180_000);

describe('npm run attacks', () => {
  it('runs every attack against every version, and none of the runs fails', () => {
    expect(matrix.versions).toEqual(listVersions().map((version) => version.slice(0, 3)));
    expect(matrix.rows.map(({ attack }) => attack)).toEqual(Object.keys(attacks));
    const failed = matrix.rows.flatMap(({ attack, cells }) =>
      Object.entries(cells)
        .filter(([, cell]) => cell.outcome === 'error')
        .map(([version, cell]) => `${attack} ${version}: ${cell.reason}`),
    );
    expect(failed).toEqual([]);
  });

  it('every attack works just before its fixedIn, and is refused from fixedIn on', () => {
    const wrong: string[] = [];
    for (const { attack, fixedIn, firstRefused, cells } of matrix.rows) {
      const fix = Number(fixedIn.slice(1));
      for (const [version, { outcome }] of Object.entries(cells)) {
        const number = Number(version.slice(1));
        if (number === fix - 1 && outcome !== 'works' && outcome !== 'n/a')
          wrong.push(`${attack} ${version}: ${outcome}, before its fix in ${fixedIn}`);
        if (number >= fix && outcome !== 'refused')
          wrong.push(`${attack} ${version}: ${outcome}, though ${fixedIn} stops it`);
      }
      if (firstRefused !== fixedIn) wrong.push(`${attack}: first refused in ${firstRefused}`);
    }
    expect(wrong).toEqual([]);
    expect(matrix.unexpected).toEqual([]);
  });
});

describe('docs/attacks.md', () => {
  it('carries the matrix the runs found: the same attacks, versions and cells', () => {
    const { header, rows } = firstTable(doc);
    expect(header).toEqual(['attack', ...matrix.versions]);
    const documented = rows.map(([name = '', ...cells]) => [name.replace(/`/g, ''), ...cells]);
    const found = matrix.rows.map(({ attack, cells }) => [
      attack,
      ...matrix.versions.map((version) => cellText(cells[version]!.outcome)),
    ]);
    expect(documented).toEqual(found);
  });

  it('names for each attack the version that stops it first', () => {
    for (const { attack, firstRefused } of matrix.rows) {
      const item = doc.split('\n- ').find((text) => text.startsWith(`\`${attack}\`:`));
      expect(item, `a line for ${attack}`).toBeDefined();
      expect(item!.replace(/\s+/g, ' '), attack).toContain(`Stopped in **${firstRefused}**`);
    }
  });
});

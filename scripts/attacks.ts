// npm run attacks -- [name…] [--json | --markdown] [--jobs N]: every attack of `npm run attack`
// against every version, and the matrix of what came of it: works, refused, or — (the version
// lacks what the attack targets), and for each attack the first version that refuses it, and
// by what. Each run starts a lab of its own on 127.0.0.1, on free ports; a few run at once
// (--jobs, default 3). --json prints the matrix as JSON, for test/attacks.test.ts; --markdown,
// as the table in docs/attacks.md. Exits non-zero when a run fails, or when an attack does not
// work in the version before its fixedIn or is not refused from fixedIn on.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attacks, runAttack, type Outcome } from './attack.ts';
import { listVersions } from './versions.mjs';

/** One cell: an attack against a version. 'error' when the run itself failed. */
export interface Cell {
  outcome: Outcome | 'error';
  /** The narration's last line (for 'error', the error). */
  reason: string;
  /** How long the run took, lab start and stop included. */
  ms: number;
}

export interface MatrixRow {
  attack: string;
  summary: string;
  /** The version the attack's definition says stops it ('v03'). */
  fixedIn: string;
  stoppedBy: string;
  /** The first version the runs found refusing it, or null. */
  firstRefused: string | null;
  /** By short version name ('v01'). */
  cells: Record<string, Cell>;
}

export interface Matrix {
  /** Short version names, in order: the columns. */
  versions: string[];
  rows: MatrixRow[];
  /** Where a row disagrees with its fixedIn, or a run failed: one line each. */
  unexpected: string[];
}

const short = (version: string) => version.slice(0, 3);

/** What a cell shows: works, refused, — (n/a), ERROR. */
export const cellText = (outcome: Cell['outcome']) =>
  outcome === 'n/a' ? '—' : outcome === 'error' ? 'ERROR' : outcome;

/**
 * Where a row breaks the rule that an attack works in the version just before its fixedIn
 * (unless that version lacks what it targets) and is refused in fixedIn and every later one.
 */
export function unexpectedIn(row: MatrixRow, versions: string[]): string[] {
  const fix = Number(row.fixedIn.slice(1));
  const problems: string[] = [];
  for (const version of versions) {
    const { outcome, reason } = row.cells[version]!;
    const number = Number(version.slice(1));
    if (outcome === 'error') problems.push(`${row.attack} ${version}: the run failed: ${reason}`);
    else if (number >= fix && outcome !== 'refused')
      problems.push(`${row.attack} ${version}: ${cellText(outcome)}, but ${row.fixedIn} stops it`);
    else if (number === fix - 1 && outcome === 'refused')
      problems.push(`${row.attack} ${version}: refused already, before ${row.fixedIn}`);
  }
  return problems;
}

/** Run `names` (default: every attack) against every version, `jobs` at a time. */
export async function runMatrix(
  names: string[] = Object.keys(attacks),
  jobs = 3,
  onCell: (attack: string, version: string, cell: Cell) => void = () => {},
): Promise<Matrix> {
  const versions = listVersions();
  const cells = new Map<string, Cell>();
  const queue = names.flatMap((attack) => versions.map((version) => ({ attack, version })));
  async function worker() {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { attack, version } = next;
      const started = performance.now();
      let cell: Cell;
      try {
        const { outcome, reason } = await runAttack(attack, version);
        cell = { outcome, reason, ms: 0 };
      } catch (err) {
        cell = {
          outcome: 'error',
          reason: err instanceof Error ? err.message : String(err),
          ms: 0,
        };
      }
      cell.ms = Math.round(performance.now() - started);
      cells.set(`${attack} ${version}`, cell);
      onCell(attack, version, cell);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));

  const columns = versions.map(short);
  const rows = names.map((attack): MatrixRow => {
    const { fixedIn, summary, stoppedBy } = attacks[attack]!;
    const row: MatrixRow = {
      attack,
      summary,
      fixedIn,
      stoppedBy,
      firstRefused: null,
      cells: Object.fromEntries(
        versions.map((version) => [short(version), cells.get(`${attack} ${version}`)!]),
      ),
    };
    row.firstRefused = columns.find((version) => row.cells[version]!.outcome === 'refused') ?? null;
    return row;
  });
  return { versions: columns, rows, unexpected: rows.flatMap((row) => unexpectedIn(row, columns)) };
}

/** The matrix as a text table, then for each attack the version that stops it and by what. */
export function formatMatrix({ versions, rows, unexpected }: Matrix): string {
  const width = Math.max(...rows.map(({ attack }) => attack.length));
  const row = (first: string, cells: string[]) =>
    `${first.padEnd(width)}  ${cells.map((cell) => cell.padEnd(8)).join('')}`.trimEnd();
  const lines = [
    row('attack', versions),
    ...rows.map(({ attack, cells }) =>
      row(
        attack,
        versions.map((version) => cellText(cells[version]!.outcome)),
      ),
    ),
    '',
    'Stopped first in, and by what:',
    ...rows.map(({ attack, firstRefused, stoppedBy }) =>
      firstRefused
        ? `  ${attack.padEnd(width)}  ${firstRefused}  ${stoppedBy}`
        : `  ${attack.padEnd(width)}  never`,
    ),
  ];
  if (unexpected.length > 0) {
    lines.push('', 'Not as the attacks’ fixedIn says:', ...unexpected.map((line) => `  ${line}`));
  }
  return lines.join('\n');
}

/** The matrix as the markdown table docs/attacks.md carries. */
export function markdownTable({ versions, rows }: Matrix): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(['attack', ...versions]),
    line(['attack', ...versions].map(() => '---')),
    ...rows.map(({ attack, cells }) =>
      line([`\`${attack}\``, ...versions.map((version) => cellText(cells[version]!.outcome))]),
    ),
  ].join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  // `npm run attacks --json` keeps the flag for npm itself, which says so in the environment.
  const flag = (name: string) =>
    args.includes(`--${name}`) || process.env[`npm_config_${name}`] === 'true';
  const json = flag('json');
  const markdown = flag('markdown');
  const jobsAt = args.indexOf('--jobs');
  const jobs = jobsAt >= 0 ? Number(args[jobsAt + 1]) : 3;
  const names = args.filter(
    (arg, index) => !arg.startsWith('--') && (jobsAt < 0 || index !== jobsAt + 1),
  );
  const unknown = names.filter((name) => !attacks[name]);
  if (unknown.length > 0 || !Number.isInteger(jobs) || jobs < 1) {
    console.error(
      'Usage: npm run attacks -- [name…] [--json | --markdown] [--jobs N]\n' +
        (unknown.length > 0 ? `No such attack: ${unknown.join(', ')}. ` : '') +
        `Attacks: ${Object.keys(attacks).join(', ')}`,
    );
    process.exit(1);
  }
  const chosen = names.length > 0 ? names : Object.keys(attacks);
  const total = chosen.length * listVersions().length;
  // Progress on a terminal only, and never into the JSON or markdown.
  const progress = !json && !markdown && process.stderr.isTTY;
  let done = 0;
  const started = performance.now();
  const matrix = await runMatrix(chosen, jobs, () => {
    done++;
    if (progress) process.stderr.write(`\r${done}/${total} runs`);
  });
  if (progress) process.stderr.write('\r\x1b[K');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (json) console.log(JSON.stringify(matrix, null, 2));
  else if (markdown) console.log(markdownTable(matrix));
  else console.log(`${formatMatrix(matrix)}\n\n${total} runs, ${jobs} at a time, in ${seconds} s.`);
  if (matrix.unexpected.length > 0) process.exitCode = 1;
}

// Run as a script (npm run attacks), not when imported.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

// The docs quote the code: every TypeScript excerpt in a chapter (a ```ts block at the start
// of a line) must still stand in its version's code, so the chapters cannot drift from it.
// Indented blocks, such as the broken code in an exercise, are not checked.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listVersions, repoRoot } from '../scripts/versions.mjs';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(file);
    return /\.(ts|ejs)$/.test(name) ? [file] : [];
  });
}

// Compare without whitespace: prettier wraps excerpts (and code) at different widths.
const squash = (text: string) => text.replace(/\s+/g, '');

/** The code a chapter may quote: its own version's folder, shared/, test/ and scripts/. */
function codeFor(chapter: string): string[] {
  const version = listVersions().find((name) => name.startsWith(`v${chapter.slice(0, 2)}-`));
  const dirs = [...(version ? [path.join('versions', version)] : []), 'shared', 'test', 'scripts'];
  return dirs
    .flatMap((dir) => sourceFiles(path.join(repoRoot, dir)))
    .map((file) => squash(readFileSync(file, 'utf8')));
}

const chapters = readdirSync(path.join(repoRoot, 'docs')).filter((name) =>
  /^\d\d-.*\.md$/.test(name),
);

describe.each(chapters)('docs/%s', (chapter) => {
  const text = readFileSync(path.join(repoRoot, 'docs', chapter), 'utf8');
  const code = codeFor(chapter);
  const excerpts = [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((match) => match[1]!);

  it('quotes only code that exists', () => {
    expect(excerpts.length).toBeGreaterThan(0);
    const missing = excerpts.filter(
      (excerpt) => !code.some((file) => file.includes(squash(excerpt))),
    );
    expect(missing).toEqual([]);
  });
});

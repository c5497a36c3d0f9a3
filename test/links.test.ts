// Every relative link in the docs and the READMEs leads somewhere: to a file or folder that
// exists and, when it names an #anchor, to a heading of that file, slugged as GitHub does.
// Links in code (fenced blocks, `code spans`) are not links, and are not checked.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listVersions, repoRoot } from '../scripts/versions.mjs';

/** The markdown this test covers: docs/*.md, the root README and every version's README. */
function markdownFiles(root: string): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => path.join('docs', name));
  const versions = listVersions()
    .map((version) => path.join('versions', version, 'README.md'))
    .filter((file) => existsSync(path.join(root, file)));
  return ['README.md', ...docs, ...versions];
}

/** The lines outside fenced code blocks (``` or ~~~, indented or not); the others are blank. */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) {
      fence = marker;
      return '';
    }
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    return line;
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

/** A heading's text as GitHub renders it: no markup, links reduced to their text. */
function headingText(source: string): string {
  // Code spans keep their content as it is; emphasis is stripped only outside them.
  return source
    .split(/(`+[^`]*`+)/)
    .map((part, index) => {
      if (index % 2 === 1) return part.replace(/^`+|`+$/g, '');
      return part
        .replace(/!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])/g, '$1')
        .replace(/<[^>]+>/g, '')
        .replace(/\*+|~~/g, '')
        .replace(/(^|[^\p{L}\p{N}])_+|_+(?=$|[^\p{L}\p{N}])/gu, '$1');
    })
    .join('')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ENTITIES[name]!)
    .trim();
}

/** GitHub's slug: lowercase, punctuation dropped (hyphens and underscores stay), spaces → -. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchor of every heading in a markdown file; a repeated slug gets -1, -2, … */
function anchors(markdown: string): Set<string> {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(headingText(heading));
    let anchor = base;
    while (seen.has(anchor)) {
      const count = (counts.get(base) ?? 0) + 1;
      counts.set(base, count);
      anchor = `${base}-${count}`;
    }
    seen.add(anchor);
  }
  // Explicit anchors in HTML: <a id="…"> or <a name="…">.
  for (const match of markdown.matchAll(/<a\s[^>]*\b(?:id|name)="([^"]+)"/g)) seen.add(match[1]!);
  return seen;
}

/** Every link target in the prose: inline links and images, reference definitions, HTML. */
function linkTargets(markdown: string): string[] {
  const prose = proseLines(markdown)
    .join('\n')
    .replace(/`+[^`]*`+/g, '');
  return [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
    ...[...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)].map((m) => m[1]!),
    ...[...prose.matchAll(/<(?:a|img)\s[^>]*\b(?:href|src)="([^"]*)"/g)].map((m) => m[1]!),
  ];
}

const isRelative = (target: string) => !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(target);

/** The relative links of one file that lead nowhere, each with the reason. */
function brokenLinks(root: string, file: string): string[] {
  const markdown = readFileSync(path.join(root, file), 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(markdown).filter(isRelative)) {
    const [pathPart = '', anchor] = target.split('#', 2);
    const decoded = decodeURIComponent(pathPart);
    // No path: an anchor in this file. A leading /: from the repository root, as on GitHub.
    const resolved =
      decoded === ''
        ? path.join(root, file)
        : path.join(root, decoded.startsWith('/') ? '' : path.dirname(file), decoded);
    const relative = path.relative(root, resolved);
    if (relative === '..' || relative.startsWith(`..${path.sep}`)) {
      broken.push(`${target}: outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      broken.push(`${target}: no such file or folder`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!resolved.endsWith('.md')) {
      broken.push(`${target}: an anchor into a file that is not markdown`);
      continue;
    }
    const targetAnchors = anchors(readFileSync(resolved, 'utf8'));
    if (!targetAnchors.has(decodeURIComponent(anchor))) {
      broken.push(`${target}: no heading with that anchor`);
    }
  }
  return broken;
}

describe('GitHub heading anchors', () => {
  it('lowercases, drops punctuation but hyphens and underscores, and turns spaces into hyphens', () => {
    expect([...anchors('## What is still wrong\n')]).toEqual(['what-is-still-wrong']);
    expect([...anchors('### 1. Two tokens, one family: [a/tokens.ts](../a/tokens.ts)\n')]).toEqual([
      '1-two-tokens-one-family-atokensts',
    ]);
    expect([...anchors('## The attack: open redirect through `redirect_uri`\n')]).toEqual([
      'the-attack-open-redirect-through-redirect_uri',
    ]);
    expect([...anchors('## _Untick_ **notes:write** — “twice”\n')]).toEqual([
      'untick-noteswrite--twice',
    ]);
  });

  it('numbers repeated headings -1, -2, and ignores headings in code blocks', () => {
    const markdown = '## Try it\n\n```sh\n# Try it\n```\n\n### Try it\n\n## Try it\n';
    expect([...anchors(markdown)]).toEqual(['try-it', 'try-it-1', 'try-it-2']);
  });
});

describe('the link checker', () => {
  it('finds a missing file, a missing anchor and an anchor into a file that is not markdown', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'links-'));
    try {
      writeFileSync(path.join(root, 'a.md'), '# A\n\n## Run it\n\ncode: `[x](nowhere.md)`\n');
      writeFileSync(path.join(root, 'b.ts'), '');
      writeFileSync(
        path.join(root, 'index.md'),
        [
          '[ok](a.md#run-it) [ok](#index) [ok](b.ts) [ok](./) [web](https://example.com/x.md)',
          '[gone](c.md) [no anchor](a.md#run) [not markdown](b.ts#L1) [up](../x.md)',
          '```md',
          '[in a code block](nowhere.md)',
          '```',
          '# Index',
        ].join('\n'),
      );
      expect(brokenLinks(root, 'index.md')).toEqual([
        'c.md: no such file or folder',
        'a.md#run: no heading with that anchor',
        'b.ts#L1: an anchor into a file that is not markdown',
        '../x.md: outside the repository',
      ]);
      expect(brokenLinks(root, 'a.md')).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe.each(markdownFiles(repoRoot))('%s', (file) => {
  it('links only to files and headings that exist', () => {
    expect(brokenLinks(repoRoot, file)).toEqual([]);
  });
});

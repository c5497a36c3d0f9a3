// scripts/: versions are found by short or full name, and the run and diff scripts fail
// clearly on a name that does not exist.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { hunksOf, whitespaceOnly } from '../scripts/check-diffs.ts';
import { findVersion, listVersions, repoRoot } from '../scripts/versions.mjs';

const tsx = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });

describe('version names', () => {
  it('lists every version folder in order', () => {
    const versions = listVersions();
    expect(versions[0]).toBe('v01-login-and-code');
    expect([...versions].sort()).toEqual(versions);
  });

  it('finds a version by short or full name', () => {
    expect(findVersion('v01')).toBe('v01-login-and-code');
    expect(findVersion('v1')).toBe('v01-login-and-code');
    expect(findVersion('v01-login-and-code')).toBe('v01-login-and-code');
    expect(findVersion('v99')).toBeUndefined();
    expect(findVersion('../etc')).toBeUndefined();
  });
});

describe('scripts', () => {
  it('run: starts every app of a version as its own process, with no loader in the launcher', async () => {
    // Two free ports for the client and the AS.
    const probes = [0, 1].map(() => net.createServer().listen(0, '127.0.0.1'));
    await Promise.all(probes.map((probe) => once(probe, 'listening')));
    const [client, as] = probes.map((probe) => (probe.address() as net.AddressInfo).port);
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));

    // Plain node, as `npm run v01` runs it: the launcher is JavaScript.
    const lab = spawn(process.execPath, ['scripts/run.mjs', 'v01'], {
      cwd: repoRoot,
      env: { ...process.env, CLIENT_PORT: String(client), AS_PORT: String(as) },
      detached: true,
    });
    let output = '';
    lab.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (const port of [client, as]) {
        let answer: Response | undefined;
        for (let tries = 0; !answer && tries < 300; tries++) {
          answer = await fetch(`http://localhost:${port}/`).catch(async () => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return undefined;
          });
        }
        expect(answer?.status).toBe(200);
      }
      expect(output).toContain(`[client     ] Client ready at http://localhost:${client}`);
      expect(output).toContain(`Authorization Server ready at http://localhost:${as}`);
    } finally {
      const exited = once(lab, 'exit');
      process.kill(-lab.pid!, 'SIGINT');
      await exited;
    }
  });

  it('run: an unknown version exits non-zero and lists the versions', () => {
    const result = tsx('scripts/run.mjs', 'v99');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('There is no version called "v99"');
    expect(result.stderr).toContain('v01-login-and-code');
  });

  it('diff: plain text when piped; a version against itself is empty', () => {
    const result = tsx('scripts/diff.ts', 'v01', 'v01');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
  });

  it('diff: shows what the next version changes, without colour codes', () => {
    const versions = listVersions();
    if (versions.length < 2) return;
    const result = tsx('scripts/diff.ts', versions[0]!, versions[1]!);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('diff --git');
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('diff: code first, the README last; a path narrows it to one folder or file', () => {
    const versions = listVersions();
    if (versions.length < 3) return;
    const whole = tsx('scripts/diff.ts', versions[1]!, versions[2]!).stdout;
    const files = [...whole.matchAll(/^diff --git a\/\S+ b\/(\S+)$/gm)].map((match) => match[1]!);
    expect(files.at(-1)).toMatch(/README\.md$/);
    expect(files.findIndex((file) => file.endsWith('.ejs'))).toBeGreaterThan(
      files.findIndex((file) => file.endsWith('.ts')),
    );

    const client = tsx('scripts/diff.ts', versions[1]!, versions[2]!, 'client').stdout;
    expect(client).toContain('diff --git');
    expect(client).not.toMatch(/^diff --git \S+auth-server/m);
    expect(tsx('scripts/diff.ts', versions[1]!, versions[2]!, 'no-such-folder').status).toBe(1);
    expect(tsx('scripts/diff.ts', versions[1]!, versions[2]!, '../..').status).toBe(1);
  });

  it('attack: runs against the version before the fix and the fix, and says which held', () => {
    const result = tsx('scripts/attack.ts', 'login-csrf');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('ATTACK WORKED against v01-login-and-code');
    expect(result.stdout).toContain('attack stopped by v02-state-csrf');
  });

  it('attack: lists the attacks without a name, fails on an unknown one', () => {
    expect(tsx('scripts/attack.ts').stderr).toContain('refresh-replay');
    expect(tsx('scripts/attack.ts', 'nope').status).toBe(1);
  });

  it('diff: an unknown version exits non-zero', () => {
    const result = tsx('scripts/diff.ts', 'v01', 'v99');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('There is no version called "v99"');
  });
});

describe('check-diffs', () => {
  const diff = [
    '--- a/versions/v01/x.ts',
    '+++ b/versions/v02/x.ts',
    '@@ -3,2 +3 @@',
    '-  if (!uri)',
    '-    throw new Error();',
    '+  if (!uri) throw new Error();',
    '@@ -9 +8 @@',
    '-const a = 1;',
    '+const a = 2;',
    '@@ -20,0 +20 @@',
    '+// new',
  ].join('\n');

  it('finds the hunks that only re-wrap or re-indent code', () => {
    const hunks = hunksOf(diff);
    expect(hunks.map((hunk) => hunk.file)).toEqual([
      'versions/v02/x.ts',
      'versions/v02/x.ts',
      'versions/v02/x.ts',
    ]);
    expect(hunks.map(whitespaceOnly)).toEqual([true, false, false]);
  });

  it('passes for the versions as they are', () => {
    const result = tsx('scripts/check-diffs.ts');
    expect(result.stdout).not.toContain('FAIL');
    expect(result.status).toBe(0);
  });
});

// npm run bench [version ...]: figures, never verdicts. These machines are noisy, so every
// figure comes with something to compare it to, measured in the same run.
//
// 1. Start-up: `npm run vNN`, the way a learner starts a version, until every one of its apps
//    answers HTTP; next to a floor: as many plain `node` processes as the version has apps,
//    each loading express and listening, started in parallel without npm.
// 2. For the newest version named (default: the newest there is), in this process:
//    - the latency of each step of a full flow (p50, p99), and of a refresh and an API call;
//    - token endpoint throughput: codes redeemed, several at a time;
//    - the memory of the lab's own process after many full flows, after a forced GC: while
//      everything they left is alive, and once its clock has passed every lifetime and its
//      stores have been swept.
// Bounded in count and time; everything runs on 127.0.0.1, on free ports.

import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet } from './lib/api.ts';
import { Browser } from './lib/browser.ts';
import { runFlow } from './lib/flow.ts';
import { startVersion, versionNumber } from './lib/lab.ts';
import { clientTokens } from './lib/state.ts';
import { codeForm, freshCode, postRefresh, postToken } from './lib/token.ts';
import { findVersion, listVersions, repoRoot, unknownVersionMessage } from './versions.mjs';

const STARTS = 3; // start-ups per version (and floors), the median is reported
const FLOWS = 300; // full flows timed step by step
const CODES = 400; // codes redeemed at the token endpoint
const CONCURRENCY = 8; // requests or flows in flight at once
const MEMORY_FLOWS = Number(process.env.BENCH_FLOWS) || 10_000;
const TIME_LIMIT_MS = 120_000; // per measurement that loops
const APPS = ['auth-server', 'resource-server', 'agent', 'client'];

const requested = process.argv.slice(2);
const versions = requested.length ? requested.map(findVersion) : listVersions();
const unknown = requested.find((name, i) => !versions[i]);
if (unknown !== undefined || versions.length === 0) {
  console.error(unknownVersionMessage(unknown ?? ''));
  process.exit(1);
}
/** What scripts/bench-lab.ts reports: its memory, and the entries its stores hold. */
type LabReport = NodeJS.MemoryUsage & { held: number };
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

console.log(`OAuth Lab bench, node ${process.version}, ${new Date().toISOString()}`);

// ---------------------------------------------------------------------------------------
console.log(`\nStart-up: until every app answers HTTP, median of ${STARTS} (floor: plain node)`);
for (const version of versions as string[]) {
  const apps = APPS.filter((app) => existsSync(path.join(repoRoot, 'versions', version, app)));
  const floors: number[] = [];
  const starts: number[] = [];
  for (let run = 0; run < STARTS; run++) {
    floors.push(await floorStart(apps.length));
    starts.push(await labStart(version));
  }
  const [floor, start] = [median(floors), median(starts)];
  console.log(
    `  ${version.padEnd(24)} ${seconds(start)}   floor (${apps.length} × node + express) ` +
      `${seconds(floor)}   ${(start / floor).toFixed(1)}×`,
  );
}

// ---------------------------------------------------------------------------------------
const version = (versions as string[]).at(-1)!;
const hasApi = versionNumber(version) >= 4;
const hasRefresh = versionNumber(version) >= 5;

console.log(`\nA full flow, step by step: ${FLOWS} flows of ${version}, each on a new lab`);
{
  // A new lab for every flow, so every flow meets the consent page: consent is remembered.
  const steps = new Map<string, number[]>();
  const step = (name: string, ms: number) => steps.set(name, [...(steps.get(name) ?? []), ms]);
  const whole: number[] = [];
  for (let i = 0; i < FLOWS; i++) {
    const lab = await startVersion(version);
    const app = (url: string) => (url.startsWith(lab.urls.as) ? 'AS' : 'client');
    const started = performance.now();
    const browser = new Browser((method, url, ms) => {
      const { pathname } = new URL(url);
      if (!pathname.startsWith('/debug/')) step(`${method} ${app(url)} ${pathname}`, ms);
    });
    await runFlow(lab, { browser });
    whole.push(performance.now() - started);
    if (hasApi) {
      const tokens = await clientTokens(lab, browser);
      let t0 = performance.now();
      await apiGet(lab, '/api/me', tokens.access_token);
      step('API call (GET /api/me)', performance.now() - t0);
      if (hasRefresh) {
        t0 = performance.now();
        await postRefresh(lab, tokens.refresh_token!);
        step('refresh (POST /token)', performance.now() - t0);
      }
    }
    await lab.close();
  }
  const width = Math.max(...[...steps.keys()].map((name) => name.length));
  for (const [name, durations] of steps) {
    console.log(`  ${name.padEnd(width)}  ${percentiles(durations)}`);
  }
  console.log(`  ${'whole flow'.padEnd(width)}  ${percentiles(whole)}`);
  console.log(
    '  GET client /callback includes the token request (and from v04 GET /api/me) on the back channel.',
  );
}

console.log(`\nToken endpoint: ${CODES} codes redeemed, ${CONCURRENCY} at a time`);
{
  const lab = await startVersion(version);
  const codes: string[] = [];
  for (let i = 0; i < CODES; i++) codes.push(await freshCode(lab));
  const durations: number[] = [];
  const started = performance.now();
  await pool(codes, async (code) => {
    const t0 = performance.now();
    const response = await postToken(lab, codeForm(lab, code));
    if (response.status !== 200) throw new Error(`POST /token answered ${response.status}`);
    durations.push(performance.now() - t0);
  });
  const perSecond = (durations.length / (performance.now() - started)) * 1000;
  console.log(`  ${perSecond.toFixed(0)} redemptions/s   ${percentiles(durations)}`);
  await lab.close();
}

const ROUNDS = 2;
console.log(
  `\nMemory of the lab's process: ${ROUNDS} rounds of ${MEMORY_FLOWS / ROUNDS} full flows, ` +
    `${CONCURRENCY} at a time, each round left to expire`,
);
{
  // The lab runs in a process of its own (scripts/bench-lab.ts), so the flows' driver does
  // not count; it collects garbage before every figure.
  const child = fork(path.join(repoRoot, 'scripts', 'bench-lab.ts'), [version], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
  });
  const next = () => once(child, 'message').then(([message]) => message as LabReport);
  const { urls } = (await next()) as unknown as { urls: RunningLab<'as' | 'client'>['urls'] };
  const lab = { urls, close: async () => {} };
  const ask = (what: 'measure' | 'expire') => {
    child.send(what);
    return next();
  };
  await runFlow(lab); // warm up, so the baseline includes the code every flow loads
  const before = await ask('measure');
  const line = (name: string, m: LabReport) =>
    console.log(
      `  ${name.padEnd(36)} RSS ${mb(m.rss).padStart(9)} (${sign(m.rss - before.rss)})   ` +
        `V8 heap ${mb(m.heapTotal).padStart(8)} (${sign(m.heapTotal - before.heapTotal)}), ` +
        `${mb(m.heapUsed)} used   ${m.held} entries held`,
    );
  line('before', before);
  for (let round = 1; round <= ROUNDS; round++) {
    const started = performance.now();
    let done = 0;
    await pool(Array.from({ length: MEMORY_FLOWS / ROUNDS }), async () => {
      if (performance.now() - started > TIME_LIMIT_MS) return;
      await runFlow(lab, { username: done % 2 ? 'user1' : 'user0' });
      done++;
    });
    line(`round ${round}: ${done} flows, all alive`, await ask('measure'));
    let idle = await ask('expire');
    line(`round ${round}: every lifetime past, swept`, idle);
    // V8 gives memory back to the system once the process has been idle a while: wait (at
    // most 30 s) until the RSS stops falling.
    for (let waited = 0; waited < 30_000; waited += 3_000) {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const now = await ask('measure');
      const falling = now.rss < idle.rss - 1024 * 1024;
      idle = now;
      if (!falling && waited >= 6_000) break;
    }
    line(`round ${round}: … and idle`, idle);
  }
  child.disconnect();
  await once(child, 'exit');
}

// ---------------------------------------------------------------------------------------

/** Milliseconds from spawning `npm run <version>` until every app of it answers. */
async function labStart(name: string): Promise<number> {
  const ports = await freePorts(4);
  const env = {
    CLIENT_PORT: String(ports[0]),
    AS_PORT: String(ports[1]),
    RS_PORT: String(ports[2]),
    AGENT_PORT: String(ports[3]),
  };
  const apps = APPS.filter((app) => existsSync(path.join(repoRoot, 'versions', name, app)));
  const appPorts = apps.map(
    (app) => ports[['client', 'auth-server', 'resource-server', 'agent'].indexOf(app)]!,
  );
  // Through npm, as a learner runs it: npm's own start-up is part of what they wait for.
  const npm = process.env.npm_execpath;
  const [command, args] = npm
    ? [process.execPath, [npm, 'run', '--silent', name]]
    : ['npm', ['run', '--silent', name]];
  return timeUntilServing(command, args, env, appPorts);
}

/** Milliseconds until `count` plain node processes, each loading express, all listen. */
async function floorStart(count: number): Promise<number> {
  const ports = await freePorts(count);
  const started = performance.now();
  const children = ports.map((port) =>
    spawn(
      process.execPath,
      ['-e', `import('express').then(({ default: e }) => e().listen(${port}, '127.0.0.1'))`],
      { cwd: repoRoot, stdio: 'ignore' },
    ),
  );
  try {
    await waitForHttp(ports);
    return performance.now() - started;
  } finally {
    await Promise.all(children.map((child) => stop(child.pid!, child)));
  }
}

async function timeUntilServing(
  command: string,
  args: string[],
  env: Record<string, string>,
  ports: number[],
): Promise<number> {
  const started = performance.now();
  // Its own process group, so that stopping it stops npm, the launcher and every app.
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: 'ignore',
    detached: true,
  });
  try {
    await waitForHttp(ports);
    return performance.now() - started;
  } finally {
    await stop(-child.pid!, child);
  }
}

async function stop(pid: number, child: ReturnType<typeof spawn>) {
  const exited = once(child, 'exit');
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  await exited;
}

/** Poll every port until each answers HTTP at all (any status), for at most 30 seconds. */
async function waitForHttp(ports: number[]) {
  const deadline = performance.now() + 30_000;
  const waiting = new Set(ports);
  while (waiting.size > 0) {
    if (performance.now() > deadline) throw new Error(`no answer on ${[...waiting].join(', ')}`);
    for (const port of [...waiting]) {
      const answered = await fetch(`http://localhost:${port}/`, {
        signal: AbortSignal.timeout(500),
      })
        .then((response) => response.arrayBuffer())
        .then(
          () => true,
          () => false,
        );
      if (answered) waiting.delete(port);
    }
    if (waiting.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((server) => once(server, 'listening')));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Run `work` on every item, `CONCURRENCY` at a time. */
async function pool<T>(items: T[], work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentiles(durations: number[]) {
  const sorted = [...durations].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `p50 ${at(0.5).toFixed(2).padStart(6)} ms   p99 ${at(0.99).toFixed(2).padStart(6)} ms`;
}

function seconds(ms: number) {
  return `${(ms / 1000).toFixed(2)} s`;
}

function sign(bytes: number) {
  return `${bytes >= 0 ? '+' : '−'}${mb(Math.abs(bytes))}`;
}

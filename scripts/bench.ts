// npm run bench [version]: rough figures for one version, all on 127.0.0.1 and bounded in
// count and time. Full authorization code flows (client → AS → login → consent → token →
// API) and, from v04 on, protected API calls with a valid token. Figures only, no verdicts:
// these machines are noisy, so compare runs on the same machine.

import { performance } from 'node:perf_hooks';
import { runFlow } from './lib/flow.ts';
import { startVersion } from './lib/lab.ts';
import { clientState } from './lib/state.ts';
import { findVersion, listVersions, unknownVersionMessage } from './versions.ts';

const FLOWS = 200;
const API_CALLS = 2_000;
const TIME_LIMIT_MS = 20_000;

const requested = process.argv[2];
const version = requested ? findVersion(requested) : listVersions().at(-1);
if (!version) {
  console.error(unknownVersionMessage(requested ?? ''));
  process.exit(1);
}

const lab = await startVersion(version);
console.log(`OAuth Lab bench: ${version}, on ${lab.urls.as} and ${lab.urls.client}`);

try {
  const flows = await measure(FLOWS, () => runFlow(lab));
  report('full login flows', flows);

  // A logged-in client session: each page load of the client's home calls the API.
  const { browser } = await runFlow(lab);
  const token = (await clientState(lab, browser)).yourTokens?.access_token;
  const hasApi = token && (await fetch(`${lab.urls.as}/api/me`, { method: 'HEAD' })).status !== 404;
  if (token && hasApi) {
    const calls = await measure(API_CALLS, async () => {
      const response = await fetch(`${lab.urls.as}/api/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`GET /api/me answered ${response.status}`);
      await response.arrayBuffer();
    });
    report('GET /api/me with a Bearer token', calls);
  } else {
    console.log('  (no API before v04: skipping API calls)');
  }
} finally {
  await lab.close();
}

async function measure(count: number, run: () => Promise<unknown>) {
  const durations: number[] = [];
  const started = performance.now();
  for (let i = 0; i < count && performance.now() - started < TIME_LIMIT_MS; i++) {
    const t0 = performance.now();
    await run();
    durations.push(performance.now() - t0);
  }
  return { durations, total: performance.now() - started };
}

function report(name: string, { durations, total }: { durations: number[]; total: number }) {
  const sorted = [...durations].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  console.log(
    `  ${name}: ${durations.length} in ${(total / 1000).toFixed(2)} s, ` +
      `${((durations.length / total) * 1000).toFixed(0)}/s, ` +
      `p50 ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`,
  );
}

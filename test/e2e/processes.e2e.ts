// The newest version the way a learner runs it: `npm run vNN` starts every app as its own
// process (three from v06: AS, resource server, client; four from v08, with the agent), and a
// real browser goes through the whole flow across them. The other browser tests run the apps in one process (startLab).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listVersions, repoRoot, versionsDir } from '../../scripts/versions.mjs';
import { launchChromium, screenshotter } from './browser.ts';

const version = listVersions().at(-1)!;
const hasAgent = existsSync(path.join(versionsDir, version, 'agent'));

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe(`${version} as separate processes`, () => {
  const ports = { client: 0, as: 0, rs: 0, ...(hasAgent ? { agent: 0 } : {}) };
  let lab: ReturnType<typeof spawn>;
  beforeAll(async () => {
    const probes = [0, 1, 2, 3].map(() => net.createServer().listen(0, '127.0.0.1'));
    await Promise.all(probes.map((probe) => once(probe, 'listening')));
    const [client, as, rs, agent] = probes.map(
      (probe) => (probe.address() as net.AddressInfo).port,
    ) as [number, number, number, number];
    Object.assign(ports, { client, as, rs }, hasAgent ? { agent } : {});
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
    lab = spawn(process.execPath, ['scripts/run.mjs', version], {
      cwd: repoRoot,
      env: {
        ...process.env,
        CLIENT_PORT: String(ports.client),
        AS_PORT: String(ports.as),
        RS_PORT: String(ports.rs),
        // Never the default 9003: a learner's own lab may be running there.
        AGENT_PORT: String(agent),
      },
      detached: true,
      stdio: 'ignore',
    });
    for (const port of Object.values(ports)) {
      let up = false;
      for (let tries = 0; !up && tries < 300; tries++) {
        up = await fetch(`http://localhost:${port}/`).then(
          () => true,
          () => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20)),
        );
      }
      expect(up, `port ${port}`).toBe(true);
    }
  });
  afterAll(async () => {
    const exited = once(lab, 'exit');
    process.kill(-lab.pid!, 'SIGINT');
    await exited;
  });

  it('logs in and reads the notes through every process', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const shot = screenshotter(`${version}-processes`);
    const client = `http://localhost:${ports.client}`;
    await page.goto(client);
    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL(`http://localhost:${ports.as}/login`);
    await page.fill('input[name="username"]', 'user0');
    await page.fill('input[name="password"]', 'password0');
    await page.click('button[type="submit"]');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${client}/callback`));
    // Who logged in: from the API's /api/me until v06, from the checked id_token from v07.
    expect(await page.textContent('body')).toMatch(/Hello, Ada Lovelace|Signed in as Ada Lovelace/);
    await shot(page, 'client-callback');
    await page.goto(client);
    expect(await page.textContent('ul.notes')).toContain('analytical engine');
    await shot(page, 'client-notes');
    if (hasAgent) {
      // The agent, a process of its own, does a task with a token it got by exchange.
      await page.getByRole('button', { name: 'Summarise my notes', exact: true }).click();
      await page.waitForURL(`${client}/#assistant`);
      expect(await page.textContent('#assistant')).toContain('You have');
      await shot(page, 'client-task');
    }
    if (ports.rs) {
      await page.goto(`http://localhost:${ports.rs}`);
      expect(await page.textContent('.decisions')).toContain('GET /api/notes');
      if (hasAgent) expect(await page.textContent('.decisions')).toContain('acting: demo-agent');
      await shot(page, 'rs-decisions');
    }
    await context.close();
  });
});

// The newest version the way a learner runs it: `npm run vNN` starts every app as its own
// process (three from v06: AS, resource server, client), and a real browser goes through the
// whole flow across them. The other browser tests run the apps in one process (startLab).

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listVersions, repoRoot } from '../../scripts/versions.mjs';
import { launchChromium, screenshotter } from './browser.ts';

const version = listVersions().at(-1)!;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe(`${version} as separate processes`, () => {
  const ports = { client: 0, as: 0, rs: 0 };
  let lab: ReturnType<typeof spawn>;
  beforeAll(async () => {
    const probes = [0, 1, 2].map(() => net.createServer().listen(0, '127.0.0.1'));
    await Promise.all(probes.map((probe) => once(probe, 'listening')));
    [ports.client, ports.as, ports.rs] = probes.map(
      (probe) => (probe.address() as net.AddressInfo).port,
    ) as [number, number, number];
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
    lab = spawn(process.execPath, ['scripts/run.mjs', version], {
      cwd: repoRoot,
      env: {
        ...process.env,
        CLIENT_PORT: String(ports.client),
        AS_PORT: String(ports.as),
        RS_PORT: String(ports.rs),
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
    if (ports.rs) {
      await page.goto(`http://localhost:${ports.rs}`);
      expect(await page.textContent('.decisions')).toContain('GET /api/notes');
      await shot(page, 'rs-decisions');
    }
    await context.close();
  });
});

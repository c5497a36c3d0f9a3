// Real Chromium for the browser suite: Debian's package, driven by playwright-core. The lab
// never lets a tool download a browser of its own.

import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../../scripts/versions.mjs';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `No Chromium at ${executablePath}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    // Without the background-networking flags Chromium keeps dialling Google's hosts and
    // hangs on a closed network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Saves numbered full-page screenshots into test-results/screenshots/<version>/, after checking
 * that the page fits the window's width: a page a learner must scroll sideways is a bug.
 */
export function screenshotter(version: string) {
  const dir = path.join(repoRoot, 'test-results', 'screenshots', version);
  mkdirSync(dir, { recursive: true });
  let count = 0;
  return async (page: Page, name: string) => {
    const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
    const viewport = page.viewportSize()?.width ?? Infinity;
    if (width > viewport)
      throw new Error(`${name}: the page is ${width} px wide, the window ${viewport}.`);
    count++;
    const file = path.join(dir, `${String(count).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
}

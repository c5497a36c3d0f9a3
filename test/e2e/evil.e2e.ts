// The attacker's site (npm run evil) in real Chromium: the attacks whose key step happens in a
// browser, shown against the version before the fix and, after the page's switch button,
// against the fix; and one attack the site runs on its own. Screenshots go to
// test-results/screenshots/evil/.

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEvil, type EvilSite } from '../../scripts/lib/evil/site.ts';
import { asState } from '../../scripts/lib/state.ts';
import { launchChromium, screenshotter } from './browser.ts';

let browser: Browser;
let site: EvilSite;
let context: BrowserContext;
let page: Page;
const shot = screenshotter('evil');

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await site?.close();
  await browser?.close();
});
afterEach(() => context?.close());

/** A fresh browser window on the attack's page, with the lab running `version`. */
async function openAttack(name: string, version: string) {
  if (!site) site = await startEvil({ version, port: 0, labPorts: 0 });
  else await site.switchTo(version);
  context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
  await page.goto(`${site.url}/attacks/${name}`);
}

/** Switch the lab with the button at the top of an attack's page, as an instructor would. */
async function switchTo(version: string) {
  await page.getByRole('button', { name: version, exact: false }).first().click();
  await page.getByText(`The lab under attack runs ${version}`).waitFor();
}

describe('the attacker’s site in Chromium', () => {
  it('lists every attack, with where it works and where it is stopped', async () => {
    await openAttack('login-csrf', 'v01');
    await page.goto(site.url);
    const rows = await page.locator('tbody tr').count();
    expect(rows).toBe(16);
    expect(await page.textContent('tbody')).toContain('v03–v06'); // mix-up
    await shot(page, 'index');
  });

  it('open-redirect: every version refuses the link, and the catcher stays empty', async () => {
    await openAttack('open-redirect', 'v01');
    await shot(page, 'open-redirect');
    await page.getByRole('link', { name: 'Open it, as the victim' }).click();
    await page.waitForURL((url) => url.port === new URL(site.lab().urls.as).port);
    expect(await page.textContent('body')).toContain('redirect_uri');
    await shot(page, 'open-redirect-as-refuses');
    await page.goto(`${site.url}/steal`);
    expect(await page.textContent('body')).toContain('Nothing has arrived');
  });

  it('login-csrf: v01 takes the attacker’s code, v02 refuses the callback', async () => {
    await openAttack('login-csrf', 'v01');
    await page.getByRole('link', { name: 'Claim your prize' }).click();
    await page.waitForURL((url) => url.pathname === '/callback');
    expect(await page.textContent('body')).toContain(
      'The authorization server sent an authorization code',
    );
    const code = new URL(page.url()).searchParams.get('code')!;
    expect((await asState(site.lab())).codes[code]?.username).toBe('user1');
    await shot(page, 'login-csrf-v01-client-takes-it');

    await page.goto(`${site.url}/attacks/login-csrf`);
    await switchTo('v02-state-csrf');
    expect(await page.textContent('body')).toContain('has the fix');
    await shot(page, 'login-csrf-v02-page');
    await page.getByRole('link', { name: 'Claim your prize' }).click();
    await page.waitForURL((url) => url.pathname === '/callback');
    expect(await page.textContent('body')).toContain('Callback refused');
    await shot(page, 'login-csrf-v02-refused');
  });

  it('login-csrf-as: the bait logs v01’s AS in as user1; v02’s AS answers 403', async () => {
    await openAttack('login-csrf-as', 'v01');
    await page.getByRole('link', { name: 'Open the bait' }).click();
    await page.waitForURL((url) => url.port === new URL(site.lab().urls.as).port);
    expect(await page.textContent('body')).toContain('user1');
    await shot(page, 'login-csrf-as-v01-as');
    await page.goto(`${site.lab().urls.client}/login`);
    await page.waitForURL((url) => url.pathname === '/callback');
    const code = new URL(page.url()).searchParams.get('code')!;
    expect((await asState(site.lab())).codes[code]?.username).toBe('user1');

    await page.goto(`${site.url}/attacks/login-csrf-as`);
    await switchTo('v02-state-csrf');
    await page.getByRole('link', { name: 'Open the bait' }).click();
    await page.waitForURL((url) => url.port === new URL(site.lab().urls.as).port);
    expect(await page.textContent('body')).toMatch(/form|token/i);
    await shot(page, 'login-csrf-as-v02-403');
    await page.goto(`${site.lab().urls.client}/login`);
    await page.waitForURL((url) => url.pathname === '/login');
    expect(await page.locator('input[name="password"]').count()).toBe(1);
  });

  it('code-injection: v02’s client takes the victim’s code, v03’s AS refuses it', async () => {
    await openAttack('code-injection', 'v02');
    await shot(page, 'code-injection-v02-page');
    await page.getByRole('link', { name: 'Inject the victim’s code' }).click();
    await page.waitForURL((url) => url.pathname === '/callback');
    expect(await page.textContent('body')).toContain(
      'The authorization server sent an authorization code',
    );
    await shot(page, 'code-injection-v02-client-takes-it');

    await page.goto(`${site.url}/attacks/code-injection`);
    await switchTo('v03-pkce');
    await page.getByRole('link', { name: 'Inject the victim’s code' }).click();
    await page.waitForURL((url) => url.pathname === '/callback');
    expect(await page.textContent('body')).toContain('invalid_grant');
    await shot(page, 'code-injection-v03-refused');
  });

  /** The victim's part of the mix-up: log in with the hostile AS, at the honest AS's pages. */
  async function victimOfMixUp() {
    await page.getByRole('link', { name: 'Open the client, as the victim' }).click();
    await page.getByRole('link', { name: 'Log in with Hostile AS' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.fill('input[name="username"]', 'user0');
    await page.fill('input[name="password"]', 'password0');
    await page.click('button[type="submit"]');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.pathname === '/callback');
  }

  it('mix-up: v06’s client hands the hostile AS the code, v07’s refuses the callback', async () => {
    await openAttack('mix-up', 'v06');
    await shot(page, 'mix-up-v06-page');
    await victimOfMixUp();
    expect(await page.textContent('body')).toContain('Login failed');
    await shot(page, 'mix-up-v06-victim-login-fails');
    await page.goto(`${site.url}/attacks/mix-up`);
    await page.getByRole('link', { name: 'The hostile AS’s page' }).click();
    expect(await page.textContent('body')).toContain('code=');
    await shot(page, 'mix-up-v06-hostile-as');
    await page.goto(`${site.url}/attacks/mix-up`);
    await page.getByRole('button', { name: 'Use the stolen code' }).click();
    await page.getByText('The attack worked against v06').waitFor();
    expect(await page.textContent('body')).toContain('user0’s tokens');
    await shot(page, 'mix-up-v06-works');

    await page.goto(`${site.url}/attacks/mix-up`);
    await switchTo('v07-openid-connect');
    await victimOfMixUp();
    expect(await page.textContent('body')).toContain('issuer_mismatch');
    await shot(page, 'mix-up-v07-callback-refused');
    await page.goto(`${site.url}/attacks/mix-up`);
    await page.getByRole('button', { name: 'Use the stolen code' }).click();
    await page.getByText('v07-openid-connect stopped it').waitFor();
    await shot(page, 'mix-up-v07-refused');
  });

  it('refresh-replay, run by the site: works against v04, refused by v05', async () => {
    await openAttack('refresh-replay', 'v04');
    await page.getByRole('button', { name: 'Run the attack' }).click();
    await page.getByText('The attack worked against v04').waitFor();
    await shot(page, 'refresh-replay-v04-works');
    await page.goto(`${site.url}/attacks/refresh-replay`);
    await switchTo('v05-refresh-token');
    await page.getByRole('button', { name: 'Run the attack' }).click();
    await page.getByText('v05-refresh-token stopped it').waitFor();
    await shot(page, 'refresh-replay-v05-refused');
  });
});

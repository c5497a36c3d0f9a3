// Each version's happy path in real Chromium: click Log in on the client, log in at the AS,
// land back on the client. A screenshot of every page goes to test-results/screenshots/.

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../../shared/lab.ts';
import { EXPIRED_MS, manualClock, startVersion, versionsFrom } from '../../scripts/lib/lab.ts';
import { has } from '../helpers/versions.ts';
import { launchChromium, screenshotter } from './browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(versionsFrom('v01'))('%s in Chromium', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  // The lab's clock, so the test can let tokens expire without waiting.
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  it('logs in through the AS and shows the outcome and the flow transcript', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    const shot = screenshotter(version);

    await page.goto(lab.urls.client);
    await expect(page.title()).resolves.toContain('Client');
    await shot(page, 'client-home');

    await page.getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL(`${lab.urls.as}/login`);
    await expect(page.title()).resolves.toContain('Authorization Server');
    await shot(page, 'as-login');

    await page.fill('input[name="username"]', 'user0');
    await page.fill('input[name="password"]', 'wrong');
    await page.click('button[type="submit"]');
    await page.getByRole('alert').waitFor();
    await shot(page, 'as-login-wrong-password');

    await page.fill('input[name="password"]', 'password0');
    await page.click('button[type="submit"]');
    if (has(version, 'v04')) {
      await page.waitForURL(`${lab.urls.as}/consent`);
      expect(await page.textContent('body')).toContain('Read your notes');
      await shot(page, 'as-consent');
      await page.getByRole('button', { name: 'Allow' }).click();
    }
    await page.waitForURL((url) => url.href.startsWith(`${lab.urls.client}/callback`));
    await shot(page, 'client-callback');

    const code = new URL(page.url()).searchParams.get('code');
    expect(code).toBeTruthy();
    const body = await page.textContent('body');
    expect(body).toContain(code);
    expect(body).toContain('Flow transcript');
    expect(body).toContain('Authorization request');
    expect(body).toContain('Authorization response');
    if (has(version, 'v07')) {
      // OpenID Connect: who logged in, from the checked id_token, before the tokens.
      expect(body).toContain('Signed in as Ada Lovelace');
      expect(body).toContain('The tokens: an access token for the API, an id_token for the client');
      expect(body).toContain('UserInfo response');
    } else if (has(version, 'v03')) {
      expect(body).toContain('Logged in: the client holds an access token');
    }
    if (has(version, 'v03')) expect(body).toContain('Token response');

    if (has(version, 'v02')) {
      // The same callback again: its state was used up, so the client refuses it.
      await page.reload();
      expect(await page.textContent('body')).toContain('Callback refused');
      await shot(page, 'client-refuses-replayed-callback');
    }

    if (has(version, 'v04')) {
      expect(body).toContain(
        has(version, 'v07') ? 'The API knows you as Ada Lovelace' : 'Hello, Ada Lovelace',
      );
      await page.goto(lab.urls.client);
      expect(await page.textContent('body')).toContain('analytical engine');
      await page.fill('input[name="text"]', 'Written in Chromium');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByRole('status').waitFor();
      expect(await page.textContent('body')).toContain('Written in Chromium');
      await shot(page, 'client-notes');
    }

    if (has(version, 'v06')) {
      // The API's own server: how it checks tokens, and what it allowed and refused.
      const rs = (lab.urls as Record<string, string>).rs!;
      await page.goto(rs);
      await expect(page.title()).resolves.toContain('Resource Server');
      expect(await page.textContent('.decisions')).toContain('GET /api/notes');
      await shot(page, 'rs-home-decisions');
      // The AS's signing keys: rotate, and the new key signs from now on.
      await page.goto(lab.urls.as);
      await page.getByRole('button', { name: 'Rotate signing key' }).click();
      await page.waitForURL(`${lab.urls.as}/#keys`);
      expect(await page.textContent('#keys')).toContain('previous');
      await shot(page, 'as-keys-rotated');
    }

    if (has(version, 'v07')) {
      // A fresh login on demand: prompt=login makes the AS ask for the password again, though
      // its session is still alive, and the new id_token's auth_time says so.
      await page.goto(lab.urls.client);
      await page.getByText('The id_token, decoded: for this client').click();
      const authTime = async () => /auth_time\s*(\d+)/.exec((await page.textContent('body'))!)?.[1];
      const before = await authTime();
      expect(before).toBeTruthy();
      clock.advance(2_000);
      await page.getByRole('link', { name: 'prompt=login' }).click();
      await page.waitForURL(`${lab.urls.as}/login`);
      expect(await page.textContent('body')).toMatch(/fresh\s+login/);
      await shot(page, 'as-login-prompt-login');
      await page.fill('input[name="username"]', 'user0');
      await page.fill('input[name="password"]', 'password0');
      await page.click('button[type="submit"]');
      await page.waitForURL((url) => url.href.startsWith(`${lab.urls.client}/callback`));
      expect(await page.textContent('body')).toContain('Signed in as Ada Lovelace');
      await page.goto(lab.urls.client);
      await page.getByText('The id_token, decoded: for this client').click();
      expect(Number(await authTime())).toBeGreaterThan(Number(before));
      await shot(page, 'client-home-fresh-login');
    }

    await page.goto(`${lab.urls.as}/debug/state`);
    expect(await page.textContent('body')).toContain(code!);
    await shot(page, 'as-debug-state');

    await page.goto(`${lab.urls.client}/debug/state`);
    await shot(page, 'client-debug-state');

    await page.goto(
      `${lab.urls.as}/authorize?client_id=demo-client&redirect_uri=http://evil.example/`,
    );
    expect(page.url()).toContain(lab.urls.as);
    expect(await page.textContent('body')).toContain('not registered');
    await shot(page, 'as-refuses-unregistered-redirect');

    if (has(version, 'v08')) {
      // An AI agent does a task for the user, with a token of its own (token exchange), and
      // hands the reading to a sub-agent, which exchanges the agent's token in turn.
      const urls = lab.urls as Record<string, string>;
      await page.goto(lab.urls.client);
      await page
        .getByRole('button', { name: 'Summarise my notes, with a helper to read them' })
        .click();
      await page.waitForURL(`${lab.urls.client}/#assistant`);
      const assistant = await page.textContent('#assistant');
      expect(assistant).toContain('You have');
      expect(assistant).toContain('demo-subagent, acting for the user through demo-agent');
      await shot(page, 'client-assistant-chain');
      await page.goto(urls.agent!);
      await expect(page.title()).resolves.toContain('Agent');
      expect(await page.textContent('body')).toContain('token exchange');
      await shot(page, 'agent-home');
      await page.goto(urls.rs!);
      expect(await page.textContent('.decisions')).toContain(
        'acting: demo-subagent, delegated by demo-agent',
      );
      await shot(page, 'rs-audit-agents');
      await page.goto(`${lab.urls.as}/#lineage`);
      expect(await page.textContent('#lineage')).toMatch(/demo-subagent\s+acting for\s+user0/);
      await shot(page, 'as-lineage');
    }

    if (has(version, 'v05')) {
      // The access token expires; the next page load refreshes it without the user noticing.
      clock.advance(EXPIRED_MS);
      await page.goto(lab.urls.client);
      expect(await page.textContent('body')).toContain('analytical engine');
      expect(await page.textContent('.transcript')).toContain('uses its refresh token');
      await shot(page, 'client-silent-refresh');

      await page.getByRole('button', { name: 'Revoke refresh token' }).click();
      if (has(version, 'v06')) {
        // The resource server checks the JWT by itself: it cannot know the token was revoked,
        // and accepts it until it expires. Then the refresh fails: log in again.
        await page.locator('ul.notes').waitFor();
        expect(await page.textContent('ul.notes')).toContain('analytical engine');
        await shot(page, 'client-revoked-token-still-accepted');
        if (has(version, 'v08')) {
          // The agents' tokens were made from this grant's: revoked with it, at every depth.
          await page.goto(`${lab.urls.as}/#lineage`);
          expect(await page.textContent('#lineage')).not.toMatch(/acting\s+for/);
          await shot(page, 'as-lineage-after-revoke');
        }
        clock.advance(EXPIRED_MS);
        await page.goto(lab.urls.client);
      }
      await page.getByText('Please log in again').waitFor();
      await shot(page, 'client-revoked-log-in-again');

      // Still logged in at the AS, consent remembered: one click and we are back.
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.waitForURL((url) => url.href.startsWith(`${lab.urls.client}/callback`));
    }

    if (has(version, 'v04')) {
      await page.goto(lab.urls.client);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL((url) => url.href.startsWith(`${lab.urls.as}/logout`));
      await shot(page, 'as-logout-offer');
      await page.getByRole('button', { name: 'Log out of the authorization server' }).click();
      await page.getByText('Your session at the authorization server is over').waitFor();
      await shot(page, 'as-logged-out');
    }

    await context.close();
  });

  it('refuses forms posted from a page on another site', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    const shot = screenshotter(version);
    /** A page of the attacker's that posts `fields` to `action` as soon as it loads. */
    const autoPost = async (action: string, fields: Record<string, string>) => {
      const inputs = Object.entries(fields)
        .map(([name, value]) => `<input name="${name}" value="${value}">`)
        .join('');
      await page.setContent(
        `<form id="f" method="post" action="${action}">${inputs}</form>` +
          `<script>document.getElementById('f').submit()</script>`,
      );
      await page.waitForURL((url) => url.origin === new URL(action).origin);
      return (await page.textContent('body')) ?? '';
    };

    // Login CSRF at the AS: the attacker's password, posted in the victim's browser.
    const login = await autoPost(`${lab.urls.as}/login`, {
      username: 'user1',
      password: 'password1',
    });
    if (has(version, 'v02')) {
      expect(login).toContain('did not come from this server');
      await shot(page, 'as-refuses-cross-site-login');
    } else {
      expect(login).toContain('You are logged in as user1');
      await shot(page, 'as-accepts-cross-site-login');
    }

    if (has(version, 'v04')) {
      // The client's own forms: a note written in the victim's name.
      await page.goto(lab.urls.client);
      const note = await autoPost(`${lab.urls.client}/notes`, { text: 'Written by the attacker' });
      expect(note).toContain('Form refused');
      await shot(page, 'client-refuses-cross-site-note');
    }
    await context.close();
  });
});

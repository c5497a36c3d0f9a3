// The login detour: an AS without a session stashes the authorization request, shows a login
// form, and resumes that exact request once the password is right.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import {
  authorizeUrl,
  logInAtAs,
  runFlow,
  submitLogin,
  throughConsent,
} from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState } from '../scripts/lib/state.ts';

describe.each(versionsFrom('v01'))('%s: the login detour', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('stashes the request in the AS session and shows the login form', async () => {
    const browser = new Browser();
    const url = authorizeUrl(lab, { scope: 'profile' });
    const page = await browser.get(url);
    expect(page.status).toBe(302);
    expect(page.location).toBe('/login');

    const state = await asState(lab, browser);
    expect(state.yourSession.pendingAuthorize).toBe(new URL(url).pathname + new URL(url).search);

    const form = await browser.follow(page);
    expect(form.status).toBe(200);
    expect(form.text).toMatch(/<input[^>]+name="username"/);
    expect(form.text).toMatch(/<input[^>]+name="password"/);
    expect(form.text).toContain('Demo Client');
  });

  it('resumes the stashed request after login with a 303, never a 307', async () => {
    const browser = new Browser();
    const url = authorizeUrl(lab);
    await browser.get(url);
    const login = await submitLogin(lab, browser, { username: 'user1', password: 'password1' });
    expect(login.status).toBe(303);
    expect(new URL(login.location!, lab.urls.as).href).toBe(url);

    const resumed = await throughConsent(browser, await browser.follow(login));
    expect(resumed.status).toBe(302);
    expect(resumed.location).toContain(`${lab.urls.client}/callback?code=`);
  });

  it('gives the user a new session id at login (no session fixation)', async () => {
    const browser = new Browser();
    await browser.get(authorizeUrl(lab));
    const before = browser.cookies.get('as.sid');
    expect(before).toBeDefined();
    expect((await logInAtAs(lab, browser, 'user0')).status).toBe(303);
    expect(browser.cookies.get('as.sid')).not.toBe(before);
  });

  it('shows the form again on a wrong password, stores nothing and issues no code', async () => {
    const browser = new Browser();
    await browser.get(authorizeUrl(lab));
    const codesBefore = Object.keys((await asState(lab)).codes).length;

    const page = await submitLogin(lab, browser, { username: 'user0', password: 'wrong' });
    expect(page.status).toBe(401);
    expect(page.location).toBeUndefined();
    expect(page.text).toContain('Wrong username or password');
    expect(page.text).toMatch(/<form[^>]+action="\/login"/);

    const state = await asState(lab, browser);
    expect(state.yourSession.user).toBeUndefined();
    expect(state.yourSession.pendingAuthorize).toBeDefined(); // still waiting, still resumable
    expect(Object.keys(state.codes)).toHaveLength(codesBefore);

    const retry = await browser.get(authorizeUrl(lab));
    expect(retry.location).toBe('/login');
  });

  it.each([
    ['unknown user', { username: 'nobody', password: 'password0' }],
    ['empty form', {}],
    ['another user’s password', { username: 'user0', password: 'password1' }],
  ])('refuses an %s', async (_name, form) => {
    const browser = new Browser();
    const page = await submitLogin(lab, browser, form);
    expect(page.status).toBe(401);
    // Nothing stored for a failed login: no user in the session (if there is one at all).
    expect((await asState(lab, browser)).yourSession.user).toBeUndefined();
  });

  it('escapes a username echoed back into the form', async () => {
    const browser = new Browser();
    const page = await submitLogin(lab, browser, {
      username: '"><script>alert(1)</script>',
      password: 'x',
    });
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('&#34;&gt;&lt;script&gt;');
  });

  it('runs the whole flow end to end for both users', async () => {
    for (const username of ['user0', 'user1']) {
      const { callback, params } = await runFlow(lab, { username });
      expect(callback.status).toBe(200);
      expect(callback.text).toContain(params.get('code'));
    }
  });
});

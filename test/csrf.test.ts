// Cross-site request forgery against the lab's own forms. A page on another site (another
// localhost port is enough: cookies and SameSite ignore ports) posts a form in the victim's
// browser. Every form that changes something carries a token only the app's own pages know.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { csrfOf, runFlow, submitClientForm, submitLogin } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, clientTokens, notesOf } from '../scripts/lib/state.ts';
import { postRefresh } from '../scripts/lib/token.ts';
import { has, versionsBefore } from './helpers/versions.ts';

/**
 * Login CSRF at the AS (RFC 9700 §4.7): the attacker's page auto-posts the AS login form
 * with the attacker's own password, then the victim starts an ordinary login at the client.
 * The user the AS issues the victim's code for.
 */
async function crossSiteLogin(lab: RunningLab<'as' | 'client'>) {
  const victim = new Browser();
  const posted = await victim.post(`${lab.urls.as}/login`, {
    username: 'user1',
    password: 'password1',
  });
  // The victim later clicks Log in; if the AS asks for a password, they type their own.
  const flow = await runFlow(lab, { browser: victim, username: 'user0', land: false });
  const code = flow.params.get('code')!;
  return { posted, codeIsFor: (await asState(lab)).codes[code]!.username };
}

describe.each(versionsBefore('v02'))('%s: login CSRF at the AS (the attack works)', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('a cross-site login post makes the victim’s next login complete as the attacker', async () => {
    const { posted, codeIsFor } = await crossSiteLogin(lab);
    expect(posted.status).toBe(303);
    expect(codeIsFor).toBe('user1');
  });
});

describe.each(versionsFrom('v02'))('%s: the AS login form', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('refuses a cross-site login post: the victim logs in as themselves', async () => {
    const { posted, codeIsFor } = await crossSiteLogin(lab);
    expect(posted.status).toBe(403);
    expect(codeIsFor).toBe('user0');
  });

  it('refuses a login post without the form’s token, logging nobody in', async () => {
    const browser = new Browser();
    await browser.get(`${lab.urls.as}/login`);
    const forged = await browser.post(`${lab.urls.as}/login`, {
      username: 'user0',
      password: 'password0',
    });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('did not come from this server');
    expect((await asState(lab, browser)).yourSession.user).toBeUndefined();
  });

  it('refuses a token from another session', async () => {
    const other = new Browser();
    const token = csrfOf(await other.get(`${lab.urls.as}/login`));
    const browser = new Browser();
    await browser.get(`${lab.urls.as}/login`);
    const page = await browser.post(`${lab.urls.as}/login`, {
      _csrf: token,
      username: 'user0',
      password: 'password0',
    });
    expect(page.status).toBe(403);
  });

  it('accepts the real form', async () => {
    const page = await submitLogin(lab, new Browser(), {
      username: 'user0',
      password: 'password0',
    });
    expect(page.status).toBe(303);
  });
});

describe.each(versionsFrom('v04'))('%s: the client’s own forms', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  /** The attacker's page posts a client form in the logged-in victim's browser. */
  const forge = (browser: Browser, path: string, form: Record<string, string> = {}) =>
    browser.post(`${lab.urls.client}${path}`, form);

  it('a cross-site note is refused, and nothing is written in the victim’s name', async () => {
    const { browser } = await runFlow(lab);
    const page = await forge(browser, '/notes', { text: 'Written by the attacker' });
    expect(page.status).toBe(403);
    expect(page.text).toContain('Form refused');
    expect(await notesOf(lab, 'user0')).not.toContain('Written by the attacker');
    // The real form still works.
    expect((await submitClientForm(lab, browser, '/notes', { text: 'mine' })).status).toBe(303);
  });

  it('a cross-site logout is refused: the victim stays logged in', async () => {
    const { browser } = await runFlow(lab);
    expect((await forge(browser, '/logout')).status).toBe(403);
    expect(await clientTokens(lab, browser)).toBeDefined();
  });

  if (has(version, 'v05')) {
    it('cross-site “Refresh now” and “Revoke” are refused: the tokens stay as they were', async () => {
      const { browser } = await runFlow(lab);
      const before = await clientTokens(lab, browser);
      expect((await forge(browser, '/refresh')).status).toBe(403);
      expect((await forge(browser, '/revoke')).status).toBe(403);
      expect(await clientTokens(lab, browser)).toEqual(before);
      // Neither used nor revoked at the AS: the refresh token still works.
      expect((await postRefresh(lab, before.refresh_token!)).status).toBe(200);
    });
  }
});

// state binds the authorization response to the browser that started the flow
// (RFC 6749 §4.1.2, §10.12; RFC 9700 §4.7.1), and errors go back to a trusted redirect_uri
// (RFC 6749 §4.1.2.1).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import {
  authorizeUrl,
  locationParams,
  loggedInBrowser,
  logInAtAs,
  runFlow,
} from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { clientState } from '../scripts/lib/state.ts';
import { has, versionsBefore } from './helpers/versions.ts';

/**
 * The attack: the attacker runs a flow with their own account, stops before following the
 * redirect back, and gets the victim's browser to open that callback URL (a link, an image
 * tag). The victim's client then holds the attacker's code.
 */
async function injectAttackersCode(lab: RunningLab<'client'>, victim: Browser) {
  const attacker = await runFlow(lab, { username: 'user1', land: false });
  const callback = await victim.get(attacker.authorizationResponse.location!);
  return { callback, attackersCode: attacker.params.get('code')! };
}

/** Did the client send a token request (a code exchange) in this browser's flow? */
async function clientUsedACode(lab: RunningLab<'client'>, victim: Browser) {
  const state = await clientState(lab, victim);
  const hops = state.yourSession.transcript ?? [];
  return hops.some((hop) => hop.channel === 'back' && hop.title.startsWith('Token request'));
}

describe.each(versionsBefore('v02'))('%s: login CSRF (the attack works)', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('accepts an attacker’s code delivered to the victim’s callback', async () => {
    const victim = new Browser();
    const { callback, attackersCode } = await injectAttackersCode(lab, victim);
    expect(callback.status).toBe(200);
    expect(callback.text).toContain(attackersCode);
    expect(callback.text).toContain('The authorization server sent an authorization code');
  });
});

describe.each(versionsFrom('v02'))('%s: state', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  describe('the client', () => {
    it('sends a fresh, unguessable state per login attempt and keeps it in its session', async () => {
      const browser = new Browser();
      const states = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const start = await browser.get(`${lab.urls.client}/login`);
        const state = locationParams(start).get('state')!;
        expect(state).toMatch(/^[A-Za-z0-9_-]{43,}$/); // ≥ 256 bits of base64url
        expect((await clientState(lab, browser)).yourPendingLogin!.state).toBe(state);
        states.add(state);
      }
      expect(states.size).toBe(3);
    });

    it('accepts the callback of the flow it started', async () => {
      const { callback, params } = await runFlow(lab);
      expect(callback.status).toBe(200);
      expect(params.get('state')).toBeTruthy();
      expect(callback.text).not.toContain('Callback refused');
    });

    it('refuses an attacker’s code delivered to the victim’s callback (no flow started)', async () => {
      const victim = new Browser();
      const { callback } = await injectAttackersCode(lab, victim);
      expect(callback.status).toBe(400);
      expect(callback.text).toContain('Callback refused');
      expect(await clientUsedACode(lab, victim)).toBe(false);
    });

    it('refuses an attacker’s code while the victim has a flow of their own in progress', async () => {
      const victim = new Browser();
      await victim.get(`${lab.urls.client}/login`);
      const { callback } = await injectAttackersCode(lab, victim);
      expect(callback.status).toBe(400);
      expect(callback.text).toContain('not the one this browser sent');
      expect(await clientUsedACode(lab, victim)).toBe(false);
    });

    it('refuses a callback without state', async () => {
      const browser = new Browser();
      const { params } = await runFlow(lab, { browser, land: false });
      const page = await browser.get(`${lab.urls.client}/callback?code=${params.get('code')}`);
      expect(page.status).toBe(400);
      expect(page.text).toContain('no state parameter');
    });

    it.each([
      ['empty', () => ''],
      ['a prefix of the real one', (real: string) => real.slice(0, 10)],
      ['the real one plus more', (real: string) => `${real}x`],
    ])('refuses a state that is %s', async (_name, vary) => {
      const victim = new Browser();
      const start = await victim.get(`${lab.urls.client}/login`);
      const real = locationParams(start).get('state')!;
      const page = await victim.get(
        `${lab.urls.client}/callback?code=attackers-code&state=${encodeURIComponent(vary(real))}`,
      );
      expect(page.status).toBe(400);
      expect(page.text).toContain('Callback refused');
    });

    it('uses a state once: replaying the same callback is refused', async () => {
      const { browser, authorizationResponse, callback } = await runFlow(lab);
      expect(callback.status).toBe(200);
      const replay = await browser.follow(authorizationResponse);
      expect(replay.status).toBe(400);
      expect(replay.text).toContain('no login in progress');
    });

    it('escapes a hostile code shown on the refusal page', async () => {
      const page = await new Browser().get(
        `${lab.urls.client}/callback?code=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=x`,
      );
      expect(page.status).toBe(400);
      expect(page.text).not.toContain('<script>alert(1)</script>');
    });
  });

  describe('the authorization server', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await loggedInBrowser(lab);
    });

    it('echoes state unchanged, even with &, = and spaces in it', async () => {
      const state = 'a&b=c d+e%f/?#';
      const page = await browser.get(authorizeUrl(lab, { state }));
      expect(page.status).toBe(302);
      expect(locationParams(page).get('state')).toBe(state);
    });

    it('sends no state when the client sent none', async () => {
      const page = await browser.get(authorizeUrl(lab));
      expect(locationParams(page).has('state')).toBe(false);
    });

    it('redirects response_type=token to the client as unsupported_response_type, with state', async () => {
      const page = await browser.get(authorizeUrl(lab, { response_type: 'token', state: 'S' }));
      expect(page.status).toBe(302);
      expect(page.location!.startsWith(`${lab.urls.client}/callback?`)).toBe(true);
      const params = locationParams(page);
      expect(params.get('error')).toBe('unsupported_response_type');
      expect(params.get('error_description')).toContain('response_type');
      expect(params.get('state')).toBe('S');
      expect(params.has('code')).toBe(false);
    });

    it('redirects an error only after the user has logged in (RFC 9700 §4.11.2)', async () => {
      const anonymous = new Browser();
      const url = authorizeUrl(lab, { response_type: undefined, state: 'S' });
      const first = await anonymous.get(url);
      expect(first.location).toBe('/login');
      await logInAtAs(lab, anonymous);
      const page = await anonymous.get(url);
      expect(page.status).toBe(302);
      expect(locationParams(page).get('error')).toBe('invalid_request');
      expect(locationParams(page).get('state')).toBe('S');
    });

    it('redirects a repeated state as invalid_request, without a state', async () => {
      const page = await browser.get(`${authorizeUrl(lab, { state: 'one' })}&state=two`);
      expect(page.status).toBe(302);
      expect(locationParams(page).get('error')).toBe('invalid_request');
      expect(locationParams(page).has('state')).toBe(false);
    });

    it('keeps errors on the AS while the redirect_uri is not trusted', async () => {
      const page = await browser.get(
        authorizeUrl(lab, { redirect_uri: 'http://evil.example/cb', response_type: 'token' }),
      );
      expect(page.status).toBe(400);
      expect(page.location).toBeUndefined();
    });

    it('shows the client an error the AS redirected, once state matches', async () => {
      const victim = new Browser();
      const start = await victim.get(`${lab.urls.client}/login`);
      const state = locationParams(start).get('state')!;
      // v07+: the AS names itself in every response (RFC 9207 §2), and the client, told so by
      // its metadata, refuses a response that does not.
      const iss = has(version, 'v07') ? `&iss=${encodeURIComponent(lab.urls.as)}` : '';
      const page = await victim.get(
        `${lab.urls.client}/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E&state=${state}${iss}`,
      );
      expect(page.status).toBe(200);
      expect(page.text).toContain('access_denied');
      expect(page.text).toContain('&lt;b&gt;no&lt;/b&gt;');
    });
  });
});

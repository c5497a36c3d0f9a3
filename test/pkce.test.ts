// PKCE (RFC 7636; lab: required with S256 of every client, RFC 9700 §2.1.1 asks it of public
// ones): a stolen code is worthless without the verifier that only the client which started
// the flow knows.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import {
  authorizeUrl,
  locationParams,
  loggedInBrowser,
  pkcePair,
  runFlow,
} from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, clientState, storedAccessToken } from '../scripts/lib/state.ts';
import { codeForm, freshCode, postToken } from '../scripts/lib/token.ts';
import { has, versionsBetween } from './helpers/versions.ts';

/**
 * Code injection with a stolen code (RFC 9700 §4.5): the attacker steals the victim's code
 * (from a log, a referrer, a malicious app on the device), starts a flow of their own at the
 * real client, and swaps the victim's code into their own callback. The state is the
 * attacker's own, so it matches; only PKCE can tell that the code belongs to another flow.
 */
async function injectStolenCode(lab: RunningLab<'client'>) {
  const victim = await runFlow(lab, { username: 'user0', land: false });
  const stolenCode = victim.params.get('code')!;

  const attacker = await runFlow(lab, { username: 'user1', land: false });
  const callback = new URL(attacker.authorizationResponse.location!);
  callback.searchParams.set('code', stolenCode);
  const page = await attacker.browser.get(callback.href);
  return { page, stolenCode, attacker: attacker.browser };
}

describe.each(versionsBetween('v02', 'v03'))('%s: code injection (the attack works)', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('accepts a stolen code in the attacker’s own flow: state cannot tell', async () => {
    const { page, stolenCode } = await injectStolenCode(lab);
    expect(page.status).toBe(200);
    expect(page.text).toContain(stolenCode);
    expect(page.text).not.toContain('Callback refused');
  });
});

describe.each(versionsFrom('v03'))('%s: PKCE', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  let browser: Browser;
  beforeAll(async () => {
    lab = await startVersion(version);
    browser = await loggedInBrowser(lab);
  });
  afterAll(() => lab.close());

  describe('the client', () => {
    it('sends an S256 challenge of a fresh verifier it keeps in its session', async () => {
      const client = new Browser();
      const start = await client.get(`${lab.urls.client}/login`);
      const params = locationParams(start);
      expect(params.get('code_challenge_method')).toBe('S256');

      const verifier = (await clientState(lab, client)).yourPendingLogin!.verifier!;
      expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/); // RFC 7636 §4.1
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      expect(params.get('code_challenge')).toBe(challenge); // RFC 7636 §4.2, unpadded

      const again = locationParams(await client.get(`${lab.urls.client}/login`));
      expect(again.get('code_challenge')).not.toBe(challenge);
    });

    it('redeems the code with the verifier on the back channel and forgets the verifier', async () => {
      const { browser: client, callback } = await runFlow(lab);
      expect(callback.status).toBe(200);
      // v07+: the page says who signed in, from the checked id_token.
      expect(callback.text).toContain(
        has(version, 'v07') ? 'Signed in as' : 'Logged in: the client holds an access token',
      );
      const state = await clientState(lab, client);
      expect(state.yourTokens!.token_type).toBe('Bearer');
      const back = state.yourSession.transcript!.filter((hop) => /^Token/.test(hop.title));
      expect(back).toHaveLength(2);
      const verifier = back[0]!.params!.code_verifier;
      expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
      expect(back[1]!.line).toMatch(/^200/);
      // Used once, then gone: no pending login of any browser holds it any more.
      expect(state.yourPendingLogin).toBeUndefined();
      const kept = Object.values(state.pendingLogins!).map((login) => login.verifier);
      expect(kept).not.toContain(verifier);
    });
  });

  describe('the authorization server at /authorize', () => {
    const refused = async (overrides: Record<string, string | undefined>, message: RegExp) => {
      const page = await browser.get(authorizeUrl(lab, { state: 'S', ...overrides }));
      expect(page.status).toBe(302);
      const params = locationParams(page);
      expect(params.get('error')).toBe('invalid_request');
      expect(params.get('error_description')).toMatch(message);
      expect(params.get('state')).toBe('S');
      expect(params.has('code')).toBe(false);
    };

    it('requires a code_challenge', () => refused({ code_challenge: undefined }, /code_challenge/));
    it('refuses code_challenge_method=plain', () =>
      refused({ code_challenge_method: 'plain' }, /transform algorithm not supported/));
    it('refuses an absent method, which means plain (RFC 7636 §4.3)', () =>
      refused({ code_challenge_method: undefined }, /transform algorithm not supported/));
    it('refuses an unknown method', () =>
      refused({ code_challenge_method: 'S512' }, /transform algorithm not supported/));
    it('refuses a challenge that is not an S256 hash', () =>
      refused({ code_challenge: 'too-short' }, /SHA-256/));

    it('stores the challenge with the code', async () => {
      const { challenge } = pkcePair();
      const page = await browser.get(authorizeUrl(lab, { code_challenge: challenge }));
      const code = locationParams(page).get('code')!;
      expect((await asState(lab)).codes[code]!.codeChallenge).toBe(challenge);
    });
  });

  describe('the authorization server at /token', () => {
    it('refuses a wrong verifier with invalid_grant (RFC 7636 §4.6)', async () => {
      const code = await freshCode(lab);
      const form = codeForm(lab, code, { code_verifier: pkcePair().verifier });
      const response = await postToken(lab, form);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_grant');
      expect(response.body.error_description).toMatch(/code_verifier/);
    });

    it('refuses the verifier of another flow', async () => {
      const mine = pkcePair();
      const theirs = pkcePair();
      await freshCode(lab, { code_challenge: theirs.challenge });
      const code = await freshCode(lab, { code_challenge: mine.challenge });
      const response = await postToken(
        lab,
        codeForm(lab, code, { code_verifier: theirs.verifier }),
      );
      expect(response.body.error).toBe('invalid_grant');
    });

    it('refuses a verifier outside RFC 7636 §4.1 even if it hashes right', async () => {
      const verifier = 'short';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const code = await freshCode(lab, { code_challenge: challenge });
      const response = await postToken(lab, codeForm(lab, code, { code_verifier: verifier }));
      expect(response.body.error).toBe('invalid_grant');
    });
  });

  describe('attacks', () => {
    it('code interception: a stolen code redeemed without the verifier fails', async () => {
      const victim = await runFlow(lab, { land: false });
      const stolen = victim.params.get('code')!;
      // The attacker even has the client's credentials (think of a secret extracted from an
      // app), but not the verifier, which never left the client.
      const form = codeForm(lab, stolen);
      delete (form as Partial<typeof form>).code_verifier;
      expect((await postToken(lab, form)).body.error).toBe('invalid_request');
      const guessed = await postToken(
        lab,
        codeForm(lab, stolen, { code_verifier: pkcePair().verifier }),
      );
      expect(guessed.body.error).toBe('invalid_grant');
    });

    it('code injection: the client refuses a stolen code in the attacker’s flow', async () => {
      const { page, attacker } = await injectStolenCode(lab);
      expect(page.status).toBe(400);
      expect(page.text).toContain('could not be exchanged');
      expect(page.text).toContain('invalid_grant');
      expect((await clientState(lab, attacker)).yourTokens).toBeUndefined();
    });

    it('code replay: the client’s own code cannot be redeemed a second time', async () => {
      const { browser: client } = await runFlow(lab);
      const state = await clientState(lab, client);
      const request = state.yourSession.transcript!.find((hop) =>
        hop.title.startsWith('Token request'),
      )!;
      // The transcript shows the form the client sent, and its Authorization header.
      const { Authorization: _shown, ...form } = request.params as Record<string, string>;
      const replay = await postToken(lab, form);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      // RFC 6749 §4.1.2: the token from the first redemption is revoked.
      expect(await storedAccessToken(lab, state.yourTokens!.access_token)).toBeUndefined();
    });
  });
});

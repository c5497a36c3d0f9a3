// The client's checks of the id_token (OpenID Connect Core §3.1.3.7) and of the authorization
// response's issuer (RFC 9207 §2.4), each its own negative test. The v07 client runs alone
// beside a fake OpenID Provider whose signing key the test holds (fixtures/fake-op.ts): the
// test reads the state and nonce from the client's redirect, plays the AS's redirect back to
// the callback itself, and has the fake /token answer with an id_token that fails exactly one
// check. Each one is refused with a page naming that check, and nobody is logged in.
//
// Two attacks are shown both ways: an id_token replayed from an earlier login, and an access
// token passed off as an id_token, each accepted by a naive relying party
// (scripts/lib/naive-rp.ts) that checks the signature and issuer and nothing else.

import {
  decodeJwt,
  exportSPKI,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser, type Page } from '../scripts/lib/browser.ts';
import { startApp, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { naiveSignIn } from '../scripts/lib/naive-rp.ts';
import { clientState } from '../scripts/lib/state.ts';
import { tokensFor } from '../scripts/lib/token.ts';
import { atHashOf, FAKE_SUB, rsaKeyPair, startFakeOp, type FakeOp } from './fixtures/fake-op.ts';

const REFUSED = 'Login refused: the id_token failed a check';

/** A login the client started: the browser, and what its authorization request carried. */
interface Login {
  browser: Browser;
  state: string;
  nonce: string;
  /** The access token the fake /token will answer with, for at_hash. */
  accessToken: string;
}

/** Unsigned, as `alg: none` is: the header and claims base64url-encoded, an empty signature. */
function unsecured(header: Record<string, unknown>, claims: JWTPayload) {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(claims)}.`;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

describe.each(versionsFrom('v07'))('%s: the client checks the id_token', (version) => {
  let op: FakeOp;
  let client: RunningLab<'client'>;

  beforeAll(async () => {
    op = await startFakeOp();
    const app = await startApp(version, 'client', 'createClient', { rsUrl: op.url });
    client = { urls: { client: app.url }, close: app.close };
  });
  afterAll(async () => {
    await client.close();
    await op.close();
  });
  afterEach(() => op.reset());

  /** GET the client's /login (with `query`): the state and nonce its redirect to the OP carries. */
  async function startLogin(query = '', browser = new Browser()): Promise<Login> {
    const page = await browser.get(`${client.urls.client}/login${query}`);
    expect(page.status).toBe(302);
    expect(page.location).toMatch(new RegExp(`^${op.url}/authorize\\?`));
    const params = new URL(page.location!).searchParams;
    const state = params.get('state');
    const nonce = params.get('nonce');
    expect(state).toBeTruthy();
    expect(nonce).toBeTruthy();
    return { browser, state: state!, nonce: nonce!, accessToken: accessTokenOf(op) };
  }

  /** The OP's redirect back to the callback: code x, this login's state, the OP as iss. */
  function callback(login: Login, overrides: Record<string, string | undefined> = {}) {
    const url = new URL('/callback', client.urls.client);
    const params = { code: 'x', state: login.state, iss: op.url, ...overrides };
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    return login.browser.get(url.href);
  }

  /**
   * Start a login, have the fake /token answer with the id_token `idToken` makes for it (or
   * none, when it makes undefined), and come back to the callback.
   */
  async function logInWith(
    idToken: (login: Login) => Promise<string | undefined>,
    query = '',
  ): Promise<{ login: Login; page: Page }> {
    const login = await startLogin(query);
    const token = await idToken(login);
    if (token !== undefined) op.tokenResponse = { ...op.tokenResponse, id_token: token };
    return { login, page: await callback(login) };
  }

  /** An id_token with the good claims for `login`, `changes` applied (undefined deletes). */
  function idTokenWith(changes: Record<string, unknown>, header?: Record<string, unknown>) {
    return (login: Login) => op.sign(withChanges(op.goodClaims(login), changes), header);
  }

  async function expectSignedIn({ login, page }: { login: Login; page: Page }) {
    expect(page.status).toBe(200);
    expect(page.text).toContain('Signed in as');
    const state = await clientState(client, login.browser);
    expect(state.yourSession).toMatchObject({ signedIn: { claims: { sub: FAKE_SUB } } });
    expect(state.yourTokens?.access_token).toBe(login.accessToken);
  }

  async function expectNobodySignedIn(browser: Browser) {
    const state = await clientState(client, browser);
    expect(state.yourSession).not.toHaveProperty('signedIn');
    expect(state.yourTokens).toBeUndefined();
    const home = await browser.get(`${client.urls.client}/`);
    expect(home.text).not.toContain('Signed in as');
  }

  /** Refused with the page naming `check`; the tokens it got were not used; nobody logged in. */
  async function expectRefused({ login, page }: { login: Login; page: Page }, check: string) {
    expect(page.status).toBe(400);
    expect(page.text).toContain(REFUSED);
    expect(page.text).toContain(`invalid_id_token (${check})`);
    expect(page.text).not.toContain('Signed in as');
    // It got tokens (one token request), then did not call the API with them: the only
    // /api/me call is discovery's, without a token.
    expect(op.calls['/token']).toBe(1);
    expect(op.calls['/api/me']).toBe(1);
    await expectNobodySignedIn(login.browser);
  }

  it('the control: a good id_token and /userinfo about the same sub → signed in', async () => {
    const result = await logInWith(idTokenWith({}));
    await expectSignedIn(result);
    expect(op.calls['/jwks.json']).toBe(1);
    expect(op.calls['/userinfo']).toBe(1);
  });

  describe('each failed check: 400, the page names it, nobody is logged in', () => {
    it('nonce: another login’s nonce', async () => {
      await expectRefused(await logInWith(idTokenWith({ nonce: 'another-login' })), 'nonce');
    });

    it('nonce: none at all', async () => {
      await expectRefused(await logInWith(idTokenWith({ nonce: undefined })), 'nonce');
    });

    it('aud: for another client', async () => {
      await expectRefused(await logInWith(idTokenWith({ aud: 'other-client' })), 'aud');
    });

    it('aud: this client and an untrusted one besides', async () => {
      const aud = ['demo-client', 'http://untrusted.example'];
      await expectRefused(await logInWith(idTokenWith({ aud })), 'aud');
    });

    it('iss: another issuer than the one this login went to', async () => {
      await expectRefused(await logInWith(idTokenWith({ iss: 'http://localhost:1' })), 'iss');
    });

    it('exp: expired a minute ago', async () => {
      const now = Date.now();
      const claims = { iat: seconds(now) - 120, exp: seconds(now) - 60 };
      await expectRefused(await logInWith(idTokenWith(claims)), 'exp');
    });

    it('iat: issued more than 5 minutes ago, though not expired', async () => {
      const now = Date.now();
      const claims = { iat: seconds(now) - 400, exp: seconds(now) + 60 };
      await expectRefused(await logInWith(idTokenWith(claims)), 'iat');
    });

    it('signature: signed by another key under the OP’s kid', async () => {
      const { privateKey } = await rsaKeyPair();
      const forged = (login: Login) =>
        new SignJWT(op.goodClaims(login))
          .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: op.kid })
          .sign(privateKey);
      await expectRefused(await logInWith(forged), 'signature');
    });

    it('alg: none, no signature at all', async () => {
      const none = async (login: Login) =>
        unsecured({ alg: 'none', typ: 'JWT', kid: op.kid }, op.goodClaims(login));
      await expectRefused(await logInWith(none), 'alg');
    });

    it('alg: HS256 keyed with the OP’s public key (algorithm confusion)', async () => {
      const publicKey = (await importJWK(op.keys[0]!, 'RS256')) as CryptoKey;
      const secret = new TextEncoder().encode(await exportSPKI(publicKey));
      const confused = (login: Login) =>
        new SignJWT(op.goodClaims(login))
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: op.kid })
          .sign(secret);
      await expectRefused(await logInWith(confused), 'alg');
    });

    it('kid: a key the OP does not publish', async () => {
      await expectRefused(await logInWith(idTokenWith({}, { kid: 'no-such-key' })), 'kid');
    });

    it('at_hash: of another access token than the one beside it', async () => {
      const claims = { at_hash: atHashOf('another-access-token') };
      await expectRefused(await logInWith(idTokenWith(claims)), 'at_hash');
    });

    it('typ: at+jwt, an access token’s type', async () => {
      await expectRefused(await logInWith(idTokenWith({}, { typ: 'at+jwt' })), 'typ');
    });

    it('no typ at all is fine: OpenID Connect sets none (RFC 7519 §5.1: optional)', async () => {
      await expectSignedIn(await logInWith(idTokenWith({}, { typ: undefined })));
    });

    it('missing: a token response without an id_token', async () => {
      await expectRefused(await logInWith(async () => undefined), 'missing');
    });

    it('userinfo: /userinfo answers about another sub than the id_token’s', async () => {
      op.userinfo = { sub: 'user1', name: 'User One' };
      const result = await logInWith(idTokenWith({}));
      await expectRefused(result, 'userinfo');
      expect(op.calls['/userinfo']).toBe(1);
    });
  });

  describe('max_age (Core §3.1.2.1, §3.1.3.7 step 13): auth_time must be recent enough', () => {
    it('the client passes max_age on to the authorization request', async () => {
      const page = await new Browser().get(`${client.urls.client}/login?max_age=60`);
      expect(new URL(page.location!).searchParams.get('max_age')).toBe('60');
    });

    it('the control: a login 5 s ago, with max_age=60 → signed in', async () => {
      await expectSignedIn(await logInWith(idTokenWith({}), '?max_age=60'));
    });

    it('a login 2 minutes ago, with max_age=60 → refused (auth_time)', async () => {
      const claims = { auth_time: seconds(Date.now()) - 120 };
      await expectRefused(await logInWith(idTokenWith(claims), '?max_age=60'), 'auth_time');
    });

    it('no auth_time, with max_age=60 → refused (auth_time)', async () => {
      const claims = { auth_time: undefined };
      await expectRefused(await logInWith(idTokenWith(claims), '?max_age=60'), 'auth_time');
    });
  });

  describe('the issuer of the authorization response (RFC 9207 §2.4)', () => {
    async function expectCallbackRefused(login: Login, page: Page) {
      expect(page.status).toBe(400);
      expect(page.text).toContain('Callback refused');
      expect(page.text).toContain('issuer_mismatch');
      // The code was not sent anywhere: the token endpoint was never called.
      expect(op.calls['/token']).toBeUndefined();
      await expectNobodySignedIn(login.browser);
    }

    it('iss of another AS → Callback refused, and the code is not redeemed', async () => {
      const login = await startLogin();
      op.tokenResponse = { ...op.tokenResponse, id_token: await idTokenWith({})(login) };
      const page = await callback(login, { iss: 'http://localhost:1' });
      await expectCallbackRefused(login, page);
      expect(page.text).toContain('http://localhost:1');
    });

    it('no iss, though the OP advertises it → Callback refused', async () => {
      const login = await startLogin();
      op.tokenResponse = { ...op.tokenResponse, id_token: await idTokenWith({})(login) };
      await expectCallbackRefused(login, await callback(login, { iss: undefined }));
    });

    it('the control: iss names the OP this login went to → the login goes on', async () => {
      const login = await startLogin();
      op.tokenResponse = { ...op.tokenResponse, id_token: await idTokenWith({})(login) };
      await expectSignedIn({ login, page: await callback(login, { iss: op.url }) });
    });

    it('no iss from an OP that does not advertise it → the login goes on (§2.4)', async () => {
      op.metadata = { authorization_response_iss_parameter_supported: false };
      const login = await startLogin();
      op.tokenResponse = { ...op.tokenResponse, id_token: await idTokenWith({})(login) };
      await expectSignedIn({ login, page: await callback(login, { iss: undefined }) });
    });

    it('a foreign iss from an OP that does not advertise it → still refused', async () => {
      op.metadata = { authorization_response_iss_parameter_supported: false };
      const login = await startLogin();
      await expectCallbackRefused(login, await callback(login, { iss: 'http://localhost:1' }));
    });
  });

  describe('attack: an id_token replayed from an earlier login (Core §15.5.2)', () => {
    it('refused by v07 (nonce); a naive relying party logs the user in with it', async () => {
      // An earlier login, completed: its token response is what an attacker replays.
      const earlier = await logInWith(idTokenWith({}));
      await expectSignedIn(earlier);
      const replayed = op.tokenResponse;
      const idToken = replayed.id_token as string;

      // A new login, in another browser; the token endpoint's answer is the earlier one.
      op.reset();
      const login = await startLogin();
      op.tokenResponse = replayed;
      const page = await callback(login);
      // Its signature, issuer, audience, expiry and at_hash are all still good: only the nonce
      // tells it belongs to another login.
      expect(decodeJwt(idToken).nonce).toBe(earlier.login.nonce);
      expect(login.nonce).not.toBe(earlier.login.nonce);
      await expectRefused({ login, page }, 'nonce');

      expect(await naiveSignIn(idToken, { issuer: op.url, keys: op.keys })).toBe(FAKE_SUB);
    });
  });

  describe('attack: an access token passed off as the id_token (Core §3.1.3.7 steps 3, 6)', () => {
    let lab: RunningLab<'as' | 'client' | 'rs'>;
    let accessToken: string;
    let asKeys: JWK[];
    beforeAll(async () => {
      lab = await startVersion<'as' | 'client' | 'rs'>(version);
      ({ access_token: accessToken } = await tokensFor(lab, { scope: 'openid profile' }));
      asKeys = ((await fetch(`${lab.urls.as}/jwks.json`).then((r) => r.json())) as { keys: JWK[] })
        .keys;
    });
    afterAll(() => lab.close());

    it('the real AS’s access token: refused by v07 (typ); a naive relying party logs in', async () => {
      // The OP publishes the real AS's keys, so the signature checks out: only what the token
      // is for can tell it is no id_token.
      op.keys = asKeys;
      const login = await startLogin();
      op.tokenResponse = { ...op.tokenResponse, access_token: accessToken, id_token: accessToken };
      await expectRefused({ login, page: await callback(login) }, 'typ');

      expect(decodeJwt(accessToken)).toMatchObject({ sub: 'user0', iss: lab.urls.as });
      expect(await naiveSignIn(accessToken, { issuer: lab.urls.as, keys: asKeys })).toBe('user0');
    });

    it('its claims under typ JWT: refused by v07 (aud, the API’s and the AS’s, not the client’s)', async () => {
      // An AS that does not mark its access tokens at+jwt: then the audience tells them apart.
      const claims = { ...decodeJwt(accessToken), iss: op.url };
      expect([claims.aud].flat()).not.toContain('demo-client');
      const login = await startLogin();
      const token = await op.sign(claims);
      op.tokenResponse = { ...op.tokenResponse, id_token: token };
      await expectRefused({ login, page: await callback(login) }, 'aud');

      expect(await naiveSignIn(token, { issuer: op.url, keys: op.keys })).toBe('user0');
    });
  });
});

/** The access token the fake /token will answer with. */
function accessTokenOf(op: FakeOp): string {
  return op.tokenResponse.access_token as string;
}

function withChanges(claims: JWTPayload, changes: Record<string, unknown>): JWTPayload {
  const result: Record<string, unknown> = { ...claims, ...changes };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete result[name];
  }
  return result as JWTPayload;
}

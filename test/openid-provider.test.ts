// OpenID Connect, the authorization server's side (v07+): the AS is now an OpenID Provider. It
// describes itself at /.well-known/openid-configuration (OpenID Connect Discovery §3, §4),
// answers a request with `openid` in its scope with a signed id_token beside the access token
// (Core §2, §3.1.3.3), serves /userinfo (Core §5.3), names itself in every authorization
// response (RFC 9207 §2), and honours prompt and max_age (Core §3.1.2.1). An id_token is for
// the client only: the resource server refuses one presented as a Bearer token, though an API
// that checks no more than the signature and the issuer would take it.

import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import { Browser, type Page } from '../scripts/lib/browser.ts';
import {
  authorizeUrl,
  consentIdOf,
  csrfOf,
  locationParams,
  loggedInBrowser,
  passwordOf,
  throughConsent,
} from '../scripts/lib/flow.ts';
import { EXPIRED_MS, manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { naiveSignIn } from '../scripts/lib/naive-rp.ts';
import {
  codeForm,
  postAsClient,
  postRefresh,
  postToken,
  tokensFor,
  type TokenResponse,
} from '../scripts/lib/token.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;
type OidcTokens = TokenResponse & { id_token?: string };

const OIDC_METADATA = '/.well-known/openid-configuration';
const OAUTH_METADATA = '/.well-known/oauth-authorization-server';

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token (RS256). */
function atHashOf(accessToken: string) {
  const digest = createHash('sha256').update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

describe.each(versionsFrom('v07'))('%s: OpenID Provider', (version) => {
  let lab: Lab;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  const callback = () => `${lab.urls.client}/callback`;
  const jwks = async () => (await request(lab.urls.as).get('/jwks.json')).body as { keys: JWK[] };

  /** GET /authorize for demo-client in `browser`, with `overrides` (see authorizeUrl). */
  const authorize = (browser: Browser, overrides: Record<string, string | undefined>) =>
    browser.get(authorizeUrl(lab, overrides));

  /** The query of a redirect to the client's callback; fails if it goes anywhere else. */
  function callbackParams(page: Page) {
    expect(page.status).toBe(302);
    expect(page.location).toMatch(new RegExp(`^${callback()}\\?`));
    return locationParams(page);
  }

  /** Redeem a code of an authorizeUrl request: the whole token response, id_token included. */
  async function redeem(code: string): Promise<OidcTokens> {
    const response = await postToken(lab, codeForm(lab, code));
    expect(response.status).toBe(200);
    return response.body as OidcTokens;
  }

  /** `username` logs in, consents to what `overrides` asks for, and redeems the code. */
  async function oidcTokens(overrides: Record<string, string | undefined>, username = 'user0') {
    const browser = await loggedInBrowser(lab, username);
    const page = await throughConsent(browser, await authorize(browser, overrides));
    return { browser, tokens: await redeem(callbackParams(page).get('code')!) };
  }

  /** The AS's login form, shown after `page` redirected there; then log in on it. */
  async function logInOnForm(browser: Browser, page: Page, username = 'user0') {
    expect(page.status).toBe(302);
    expect(page.location).toBe('/login');
    const form = await browser.follow(page);
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="password"');
    const loggedIn = await browser.post(`${lab.urls.as}/login`, {
      username,
      password: passwordOf(username),
      _csrf: csrfOf(form),
    });
    expect(loggedIn.status).toBe(303);
    // Resumed: the paused request, once. What it answers now must not be the form again.
    return throughConsent(browser, await browser.follow(loggedIn));
  }

  const userinfo = (token: string, method: 'get' | 'post' = 'get') =>
    request(lab.urls.as)[method]('/userinfo').set('Authorization', `Bearer ${token}`);

  describe('discovery: /.well-known/openid-configuration (OpenID Connect Discovery §3, §4)', () => {
    it('has every REQUIRED field, its issuer exactly the AS URL, and userinfo and scopes', async () => {
      const response = await request(lab.urls.as).get(OIDC_METADATA);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const issuer = lab.urls.as;
      const metadata = response.body as Record<string, unknown>;
      // Discovery §4.3: exactly the URL the configuration was fetched under, no trailing slash.
      expect(metadata.issuer).toBe(issuer);
      expect(metadata).toMatchObject({
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks.json`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
      });
      expect(metadata.id_token_signing_alg_values_supported).toContain('RS256');
      expect(metadata.id_token_signing_alg_values_supported).not.toContain('none');
      expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile']));
      expect(metadata.scopes_supported).toContain('email');
    });

    it('advertises RFC 9207: authorization_response_iss_parameter_supported is true', async () => {
      const metadata = (await request(lab.urls.as).get(OIDC_METADATA)).body;
      expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    });

    it('the RFC 8414 metadata is still served, and says the same', async () => {
      const oauth = await request(lab.urls.as).get(OAUTH_METADATA);
      expect(oauth.status).toBe(200);
      const oidc = (await request(lab.urls.as).get(OIDC_METADATA)).body;
      expect(oauth.body).toEqual(oidc);
    });

    it('lists in claims_supported every claim the AS hands out (Discovery §3)', async () => {
      const metadata = (await request(lab.urls.as).get(OIDC_METADATA)).body;
      const { tokens } = await oidcTokens({ scope: 'openid profile email', nonce: 'n' });
      const info = (await userinfo(tokens.access_token)).body as Record<string, unknown>;
      const handedOut = [...Object.keys(decodeJwt(tokens.id_token!)), ...Object.keys(info)];
      expect(metadata.claims_supported).toEqual(expect.arrayContaining([...new Set(handedOut)]));
    });
  });

  describe('the id_token in the token response (Core §2, §3.1.3.3)', () => {
    it('is signed RS256, typ JWT (never at+jwt), with a kid the JWKS publishes', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile', nonce: 'n-0' });
      expect(tokens.id_token).toBeTruthy();
      const header = decodeProtectedHeader(tokens.id_token!);
      expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
      expect(header.typ).not.toBe('at+jwt');
      expect((await jwks()).keys.map((key) => key.kid)).toContain(header.kid);
    });

    it('has iss, sub, aud = client_id, exp, iat, auth_time, the request’s nonce and at_hash', async () => {
      const browser = await loggedInBrowser(lab);
      const loggedInAt = clock.now();
      clock.advance(3_000);
      const nonce = 'nonce-Zm9vYmFy-0123456789';
      const page = await throughConsent(
        browser,
        await authorize(browser, { scope: 'openid profile', nonce }),
      );
      const tokens = await redeem(callbackParams(page).get('code')!);
      const claims = decodeJwt(tokens.id_token!);
      expect(claims).toMatchObject({
        iss: lab.urls.as,
        sub: 'user0',
        aud: 'demo-client',
        nonce,
        auth_time: seconds(loggedInAt),
        iat: seconds(clock.now()),
        at_hash: atHashOf(tokens.access_token),
      });
      expect(claims.exp).toBeGreaterThan(claims.iat!);
      // An access token's claims stay out of it: it grants nothing.
      expect(claims.scope).toBeUndefined();
      expect(claims.client_id).toBeUndefined();
    });

    it('verifies with jose against the JWKS, as the client’s id_token', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid', nonce: 'n-1' });
      const { payload, protectedHeader } = await jwtVerify(
        tokens.id_token!,
        createLocalJWKSet(await jwks()),
        {
          algorithms: ['RS256'],
          typ: 'JWT',
          issuer: lab.urls.as,
          audience: 'demo-client',
          requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash'],
          currentDate: new Date(clock.now()),
        },
      );
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload.nonce).toBe('n-1');
    });

    it('without a nonce in the request, the id_token has none (Core §2)', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid', nonce: undefined });
      const claims = decodeJwt(tokens.id_token!);
      expect(claims.sub).toBe('user0');
      expect(claims).not.toHaveProperty('nonce');
    });

    it('without openid in the scope: no id_token, OAuth only', async () => {
      const tokens = (await tokensFor(lab, { scope: 'profile notes:read' })) as OidcTokens;
      expect(tokens.access_token).toBeTruthy();
      expect(tokens.scope).toBe('profile notes:read');
      expect(tokens).not.toHaveProperty('id_token');
    });

    // Core §12.2: a refresh response "might not contain an id_token". This AS sends none: the
    // id_token is about a login, and a refresh is not one.
    it('a refresh response carries no new id_token; its access token still works at /userinfo', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile', nonce: 'n-2' });
      const refreshed = await postRefresh(lab, tokens.refresh_token!);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.scope).toBe('openid profile');
      expect(refreshed.body).not.toHaveProperty('id_token');
      const info = await userinfo(refreshed.body.access_token as string);
      expect(info.status).toBe(200);
      expect(info.body.sub).toBe('user0');
    });
  });

  describe('RFC 9207: every authorization response names the issuer', () => {
    it('on success: iss is exactly the issuer of the metadata', async () => {
      const browser = await loggedInBrowser(lab);
      const page = await throughConsent(
        browser,
        await authorize(browser, { scope: 'openid', state: 'S1' }),
      );
      const params = callbackParams(page);
      expect(params.get('code')).toBeTruthy();
      expect(params.get('state')).toBe('S1');
      expect(params.get('iss')).toBe(lab.urls.as);
      const metadata = (await request(lab.urls.as).get(OIDC_METADATA)).body;
      expect(params.get('iss')).toBe(metadata.issuer);
    });

    it('on an error at /authorize: invalid_scope comes back with iss and state', async () => {
      const browser = await loggedInBrowser(lab);
      const page = await authorize(browser, { scope: 'openid no-such-scope', state: 'S2' });
      const params = callbackParams(page);
      expect(params.get('error')).toBe('invalid_scope');
      expect(params.get('state')).toBe('S2');
      expect(params.get('iss')).toBe(lab.urls.as);
      expect(params.has('code')).toBe(false);
    });

    it('on the user’s refusal: access_denied from the consent page comes back with iss', async () => {
      const browser = await loggedInBrowser(lab, 'user1');
      const page = await throughConsent(
        browser,
        await authorize(browser, { scope: 'openid notes:read', state: 'S3' }),
        { decision: 'deny' },
      );
      const params = callbackParams(page);
      expect(params.get('error')).toBe('access_denied');
      expect(params.get('state')).toBe('S3');
      expect(params.get('iss')).toBe(lab.urls.as);
    });
  });

  describe('/userinfo (Core §5.3, §5.4; RFC 6750 §3)', () => {
    it('GET and POST with a Bearer token: sub and the claims the scopes allow, never cached', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile email', nonce: 'n' });
      for (const method of ['get', 'post'] as const) {
        const response = await userinfo(tokens.access_token, method);
        expect(response.status).toBe(200);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        expect(response.headers['cache-control']).toContain('no-store');
        expect(response.body).toEqual({
          sub: 'user0',
          name: 'Ada Lovelace',
          preferred_username: 'user0',
          email: 'ada@example.com',
          email_verified: true,
        });
      }
    });

    it('only what the scopes allow: openid alone is sub alone; profile and email each their own', async () => {
      const only = async (scope: string) =>
        (await userinfo((await oidcTokens({ scope })).tokens.access_token)).body;
      expect(await only('openid')).toEqual({ sub: 'user0' });
      expect(await only('openid profile')).toEqual({
        sub: 'user0',
        name: 'Ada Lovelace',
        preferred_username: 'user0',
      });
      expect(await only('openid email')).toEqual({
        sub: 'user0',
        email: 'ada@example.com',
        email_verified: true,
      });
    });

    it('the claims are about the token’s user: user1’s token, user1’s claims', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid email' }, 'user1');
      const response = await userinfo(tokens.access_token);
      expect(response.body).toEqual({
        sub: 'user1',
        email: 'alan@example.com',
        email_verified: true,
      });
      expect(decodeJwt(tokens.id_token!).sub).toBe(response.body.sub);
    });

    it('no credentials (or another scheme) → 401 with a bare Bearer challenge, no error code', async () => {
      for (const req of [
        request(lab.urls.as).get('/userinfo'),
        request(lab.urls.as).post('/userinfo'),
        request(lab.urls.as).get('/userinfo').set('Authorization', 'Basic dXNlcjA6cGFzc3dvcmQw'),
      ]) {
        const response = await req;
        expect(response.status).toBe(401);
        const challenge = response.headers['www-authenticate'] as string;
        expect(challenge).toMatch(/^Bearer\b/);
        // RFC 6750 §3.1: a request without authentication gets no error code.
        expect(challenge).not.toContain('error=');
        expect(response.body).not.toHaveProperty('error');
        expect(response.headers['cache-control']).toContain('no-store');
      }
    });

    it('a malformed Authorization header → 400 invalid_request', async () => {
      for (const header of ['Bearer', 'Bearer a b', 'Bearer a,b']) {
        const response = await request(lab.urls.as).get('/userinfo').set('Authorization', header);
        expect(response.status, header).toBe(400);
        expect(response.body.error).toBe('invalid_request');
        expect(response.headers['www-authenticate']).toContain('error="invalid_request"');
      }
    });

    /** 401 invalid_token, in the body and in the challenge (RFC 6750 §3.1). */
    function expectInvalidToken(response: request.Response) {
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_token');
      expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
      expect(response.headers['cache-control']).toContain('no-store');
    }

    it('a garbage token → 401 invalid_token', async () => {
      expectInvalidToken(await userinfo('garbage'));
      expectInvalidToken(await userinfo('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyMCJ9.'));
    });

    it('a revoked token → 401 invalid_token', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile' });
      expect((await userinfo(tokens.access_token)).status).toBe(200);
      const revoked = await postAsClient(lab, '/revoke', { token: tokens.access_token });
      expect(revoked.status).toBe(200);
      expectInvalidToken(await userinfo(tokens.access_token));
    });

    it('an expired token → 401 invalid_token', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile' });
      expect((await userinfo(tokens.access_token)).status).toBe(200);
      clock.advance(EXPIRED_MS);
      expectInvalidToken(await userinfo(tokens.access_token));
    });

    it('an id_token as the Bearer token → 401 invalid_token: it is not an access token', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile' });
      expectInvalidToken(await userinfo(tokens.id_token!));
    });

    // RFC 6750 §3.1: a valid token without the scope is 403 insufficient_scope, naming it.
    it('a live token without openid → 403 insufficient_scope, scope="openid"', async () => {
      const tokens = await tokensFor(lab, { scope: 'profile notes:read' });
      const response = await userinfo(tokens.access_token);
      expect(response.status).toBe(403);
      expect(response.body.error).toBe('insufficient_scope');
      const challenge = response.headers['www-authenticate'] as string;
      expect(challenge).toContain('error="insufficient_scope"');
      expect(challenge).toContain('scope="openid"');
      expect(response.headers['cache-control']).toContain('no-store');
    });

    it('a token refreshed down to a scope without openid → 403 insufficient_scope too', async () => {
      const { tokens } = await oidcTokens({ scope: 'openid profile' });
      const narrowed = await postRefresh(lab, tokens.refresh_token!, { scope: 'profile' });
      expect(narrowed.status).toBe(200);
      const response = await userinfo(narrowed.body.access_token as string);
      expect(response.status).toBe(403);
      expect(response.body.error).toBe('insufficient_scope');
    });
  });

  describe('prompt (Core §3.1.2.1)', () => {
    it('prompt=login: a logged-in user logs in again, then gets a code, and auth_time is newer', async () => {
      const browser = await loggedInBrowser(lab);
      const first = await throughConsent(browser, await authorize(browser, { scope: 'openid' }));
      const before = decodeJwt((await redeem(callbackParams(first).get('code')!)).id_token!);

      clock.advance(5_000);
      const page = await authorize(browser, { scope: 'openid', prompt: 'login', state: 'P1' });
      const back = await logInOnForm(browser, page);
      // No redirect loop: the fresh login satisfies prompt=login, and the request completes.
      const params = callbackParams(back);
      expect(params.get('state')).toBe('P1');
      expect(params.get('iss')).toBe(lab.urls.as);
      const after = decodeJwt((await redeem(params.get('code')!)).id_token!);
      expect(after.auth_time).toBe(seconds(clock.now()));
      expect(after.auth_time).toBeGreaterThan(before.auth_time as number);
    });

    it('prompt=login asks every time: the same request again shows the form again', async () => {
      const browser = await loggedInBrowser(lab);
      const overrides = { scope: 'openid', prompt: 'login', state: 'P2' };
      callbackParams(await logInOnForm(browser, await authorize(browser, overrides)));
      const again = await authorize(browser, overrides);
      expect(again.status).toBe(302);
      expect(again.location).toBe('/login');
    });

    it('prompt=none without a login → error=login_required at the client, with iss and state', async () => {
      const page = await authorize(new Browser(), {
        scope: 'openid',
        prompt: 'none',
        state: 'N1',
      });
      const params = callbackParams(page);
      expect(params.get('error')).toBe('login_required');
      expect(params.get('state')).toBe('N1');
      expect(params.get('iss')).toBe(lab.urls.as);
      expect(params.has('code')).toBe(false);
    });

    it('prompt=none, logged in, consent already given → a code, no page at all', async () => {
      const browser = await loggedInBrowser(lab);
      await throughConsent(browser, await authorize(browser, { scope: 'openid profile' }));
      const page = await authorize(browser, { scope: 'openid profile', prompt: 'none' });
      expect(callbackParams(page).get('code')).toBeTruthy();
    });

    it('prompt=none, logged in, consent needed → error=consent_required, with iss and state', async () => {
      const browser = await loggedInBrowser(lab, 'user1');
      const page = await authorize(browser, {
        scope: 'openid notes:write',
        prompt: 'none',
        state: 'N2',
      });
      const params = callbackParams(page);
      expect(params.get('error')).toBe('consent_required');
      expect(params.get('state')).toBe('N2');
      expect(params.get('iss')).toBe(lab.urls.as);
      expect(params.has('code')).toBe(false);
    });

    it('prompt=consent shows the consent page though consent is remembered', async () => {
      const browser = await loggedInBrowser(lab);
      await throughConsent(browser, await authorize(browser, { scope: 'openid profile' }));
      const remembered = await authorize(browser, { scope: 'openid profile', state: 'C1' });
      expect(callbackParams(remembered).get('state')).toBe('C1');
      const asked = await authorize(browser, { scope: 'openid profile', prompt: 'consent' });
      expect(asked.location).toBe('/consent');
      const params = callbackParams(await throughConsent(browser, asked));
      expect(params.has('code')).toBe(true);
      expect(params.get('iss')).toBe(lab.urls.as);
    });

    it('an unsupported prompt value → error=invalid_request at the client, with iss and state', async () => {
      const browser = await loggedInBrowser(lab);
      for (const prompt of ['select_account', 'login none', 'LOGIN']) {
        const page = await authorize(browser, { scope: 'openid', prompt, state: 'N3' });
        const params = callbackParams(page);
        expect(params.get('error'), prompt).toBe('invalid_request');
        expect(params.get('error_description')).toMatch(/prompt/);
        expect(params.get('state')).toBe('N3');
        expect(params.get('iss')).toBe(lab.urls.as);
        expect(params.has('code')).toBe(false);
      }
    });
  });

  describe('max_age (Core §3.1.2.1)', () => {
    it('a login older than max_age: the user logs in again, and auth_time is the new login', async () => {
      const browser = await loggedInBrowser(lab);
      await throughConsent(browser, await authorize(browser, { scope: 'openid' }));
      clock.advance(120_000);
      const page = await authorize(browser, { scope: 'openid', max_age: '60', state: 'M1' });
      const back = await logInOnForm(browser, page);
      const params = callbackParams(back);
      expect(params.get('state')).toBe('M1');
      const claims = decodeJwt((await redeem(params.get('code')!)).id_token!);
      expect(claims.auth_time).toBe(seconds(clock.now()));
    });

    it('a login within max_age: no form, a code at once, and auth_time is that login', async () => {
      const browser = await loggedInBrowser(lab);
      const loggedInAt = clock.now();
      await throughConsent(browser, await authorize(browser, { scope: 'openid' }));
      clock.advance(30_000);
      const page = await authorize(browser, { scope: 'openid', max_age: '60' });
      const claims = decodeJwt((await redeem(callbackParams(page).get('code')!)).id_token!);
      expect(claims.auth_time).toBe(seconds(loggedInAt));
      expect(clock.now() / 1000 - (claims.auth_time as number)).toBeLessThanOrEqual(60);
    });

    it('max_age=0 is prompt=login: a login a moment ago is not fresh enough', async () => {
      const browser = await loggedInBrowser(lab);
      await throughConsent(browser, await authorize(browser, { scope: 'openid' }));
      const page = await authorize(browser, { scope: 'openid', max_age: '0' });
      const params = callbackParams(await logInOnForm(browser, page));
      expect(params.get('code')).toBeTruthy();
    });

    it('prompt=none with a login older than max_age → error=login_required', async () => {
      const browser = await loggedInBrowser(lab);
      await throughConsent(browser, await authorize(browser, { scope: 'openid' }));
      clock.advance(120_000);
      const page = await authorize(browser, { scope: 'openid', max_age: '60', prompt: 'none' });
      expect(callbackParams(page).get('error')).toBe('login_required');
    });

    it('a max_age that is not a number of seconds → error=invalid_request, with iss', async () => {
      const browser = await loggedInBrowser(lab);
      for (const maxAge of ['abc', '-1', '1.5', '1e3', ' 60']) {
        const page = await authorize(browser, { scope: 'openid', max_age: maxAge, state: 'M2' });
        const params = callbackParams(page);
        expect(params.get('error'), maxAge).toBe('invalid_request');
        expect(params.get('error_description')).toMatch(/max_age/);
        expect(params.get('state')).toBe('M2');
        expect(params.get('iss')).toBe(lab.urls.as);
      }
    });
  });

  describe('consent: openid is the login itself, not a choice (Core §3.1.2.1)', () => {
    /** The consent page for `scope`, shown to user1, and its form's hidden fields. */
    async function consentPage(scope: string) {
      const browser = await loggedInBrowser(lab, 'user1');
      const page = await authorize(browser, { scope });
      expect(page.location).toBe('/consent');
      const form = await browser.follow(page);
      expect(form.status).toBe(200);
      const boxes = [...form.text.matchAll(/name="scope" value="([^"]*)"/g)].map((m) => m[1]);
      const decide = (scopes: string[]) => {
        const body = new URLSearchParams({
          _csrf: csrfOf(form),
          consent_id: consentIdOf(form),
          decision: 'approve',
        });
        for (const s of scopes) body.append('scope', s);
        return browser.postRaw(`${lab.urls.as}/consent`, body.toString());
      };
      return { form, boxes, decide };
    }

    it('the consent page has no checkbox for openid, and one for each other scope', async () => {
      const { form, boxes } = await consentPage('openid profile email');
      expect(boxes).toEqual(['profile', 'email']);
      expect(form.text).toContain('<code>openid</code>');
    });

    it('a user who unticks everything else still logs in: the grant is openid alone', async () => {
      const { decide } = await consentPage('openid profile email');
      const params = callbackParams(await decide([]));
      const tokens = await redeem(params.get('code')!);
      expect(tokens.scope).toBe('openid');
      expect(decodeJwt(tokens.id_token!).sub).toBe('user1');
      expect((await userinfo(tokens.access_token)).body).toEqual({ sub: 'user1' });
    });

    it('a forged form cannot add openid to a request that did not ask for it', async () => {
      const { decide } = await consentPage('notes:read');
      const params = callbackParams(await decide(['notes:read', 'openid']));
      const tokens = await redeem(params.get('code')!);
      expect(tokens.scope).toBe('notes:read');
      expect(tokens).not.toHaveProperty('id_token');
    });
  });

  describe('the resource server refuses an id_token as a Bearer token', () => {
    let idToken: string;
    beforeAll(async () => {
      idToken = (await oidcTokens({ scope: 'openid profile', nonce: 'n-rs' })).tokens.id_token!;
    });

    it('the attack: an API that checks the signature and the issuer only takes it as user0', async () => {
      // The id_token is genuine: signed by the AS, with its issuer and a live exp. What it is
      // not is an access token, and nothing but its typ (and its aud) says so.
      expect(await naiveSignIn(idToken, { issuer: lab.urls.as, keys: (await jwks()).keys })).toBe(
        'user0',
      );
    });

    it('checking JWTs itself → 401 invalid_token, naming typ', async () => {
      await setValidation(lab, 'jwt');
      const response = await apiGet(lab, '/api/me', idToken);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_token');
      expect(response.body.error_description).toMatch(/typ/);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('asking the AS (introspection) → 401 invalid_token too', async () => {
      await setValidation(lab, 'introspection');
      try {
        const response = await apiGet(lab, '/api/me', idToken);
        expect(response.status).toBe(401);
        expect(response.body.error).toBe('invalid_token');
      } finally {
        await setValidation(lab, 'jwt');
      }
    });
  });
});

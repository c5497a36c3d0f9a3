// Interoperability: an independent, spec-strict client library agrees with the lab. The lab's
// own tests are written by the same hands as the lab, and could share its misreadings of an
// RFC; oauth4webapi (panva) was not. Here it plays the client and the resource server against
// a fresh lab, from discovery (RFC 8414) to revocation (RFC 7009), and from v07 on as an
// OpenID Connect relying party: discovery, a login with a nonce, the id_token, /userinfo. From
// v08 on it plays the agent too: client_credentials and a token exchange (RFC 8693), whose
// token jose checks against the AS's keys. If it refuses something the lab does, the lab is
// the one to fix: the step stays here as it.fails, naming the rule.

import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { loggedInBrowser, throughAs, throughConsent } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { tokensFor } from '../scripts/lib/token.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

const SCOPE = 'profile notes:read notes:write';

// The lab runs on http://localhost: oauth4webapi refuses plain HTTP unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe.each(versionsFrom('v06'))('%s: oauth4webapi agrees with the lab', (version) => {
  let lab: Lab;
  let redirectUri: string;
  const client: oauth.Client = { client_id: 'demo-client' };
  const clientAuth = oauth.ClientSecretBasic('demo-secret');
  // The resource server asks the AS about tokens with credentials of its own (RFC 7662 §2.1).
  const resourceServer: oauth.Client = { client_id: 'resource-server' };
  const resourceServerAuth = oauth.ClientSecretBasic('resource-secret');

  // Each step hands the next what it got: the steps run in order, as one client's life.
  let as: oauth.AuthorizationServer;
  let tokens: oauth.TokenEndpointResponse;
  let claims: oauth.JWTAccessTokenClaims;

  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version);
    redirectUri = `${lab.urls.client}/callback`;
  });
  afterAll(() => lab.close());

  it('discovers the AS from its issuer (RFC 8414 §3), whose metadata names it exactly (§3.3)', async () => {
    const issuer = new URL(lab.urls.as);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    as = await oauth.processDiscoveryResponse(issuer, response);
    // The library compares URLs; the lab promises the very string, with no trailing slash.
    expect(as.issuer).toBe(lab.urls.as);
    expect(as.authorization_endpoint).toBe(`${lab.urls.as}/authorize`);
    expect(as.token_endpoint).toBe(`${lab.urls.as}/token`);
    expect(as.code_challenge_methods_supported).toContain('S256');
  });

  it('runs the authorization code flow with PKCE S256 (RFC 6749 §4.1, RFC 7636) for the RS (RFC 8707)', async () => {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint!);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: redirectUri,
      scope: SCOPE,
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      resource: lab.urls.rs,
    })) {
      authorizationUrl.searchParams.set(name, value);
    }

    // The browser part: a user logged in at the AS approves the consent page, and the AS
    // redirects back to the callback. We stop there: the library takes over from the URL.
    const browser = await loggedInBrowser(lab);
    const page = await throughConsent(browser, await browser.get(authorizationUrl.href));
    expect(page.location).toBeDefined();
    const callbackUrl = new URL(page.location!, page.url);
    expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(redirectUri);

    const params = oauth.validateAuthResponse(as, client, callbackUrl, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      params,
      redirectUri,
      codeVerifier,
      { additionalParameters: { resource: lab.urls.rs }, ...insecure },
    );
    tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe(SCOPE);
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('the access token passes a resource server’s RFC 9068 checks, and the lab’s RS takes it', async () => {
    const apiRequest = new Request(`${lab.urls.rs}/api/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    // RFC 9068 §4: typ at+jwt, signature by a key of the AS's jwks_uri, iss, exp, and aud =
    // the resource server's identifier, its base URL (RFC 9728 §3.3).
    claims = await oauth.validateJwtAccessToken(as, apiRequest, lab.urls.rs, insecure);
    expect(claims).toMatchObject({
      iss: lab.urls.as,
      aud: lab.urls.rs,
      sub: 'user0',
      client_id: 'demo-client',
      scope: SCOPE,
    });

    const answer = await fetch(apiRequest);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ username: 'user0' });
  });

  it('refreshes (RFC 6749 §6), and the refresh token rotates (RFC 9700 §4.14.2)', async () => {
    const previous = tokens;
    const response = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth,
      previous.refresh_token!,
      insecure,
    );
    tokens = await oauth.processRefreshTokenResponse(as, client, response);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.refresh_token).not.toBe(previous.refresh_token);
    expect(tokens.access_token).not.toBe(previous.access_token);
    expect(tokens.scope).toBe(SCOPE);

    // The new access token is still for the same user, client and resource.
    const apiRequest = new Request(`${lab.urls.rs}/api/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    claims = await oauth.validateJwtAccessToken(as, apiRequest, lab.urls.rs, insecure);
    expect(claims).toMatchObject({ sub: 'user0', client_id: 'demo-client', aud: lab.urls.rs });
  });

  it('introspection with the RS’s credentials (RFC 7662): active, with the token’s sub and client_id', async () => {
    const response = await oauth.introspectionRequest(
      as,
      resourceServer,
      resourceServerAuth,
      tokens.access_token,
      insecure,
    );
    const introspection = await oauth.processIntrospectionResponse(as, resourceServer, response);
    expect(introspection.active).toBe(true);
    expect(introspection.sub).toBe(claims.sub);
    expect(introspection.client_id).toBe(claims.client_id);
    expect(introspection.scope).toBe(SCOPE);
  });

  it('revokes the refresh token (RFC 7009), after which refreshing with it is invalid_grant', async () => {
    const revoked = await oauth.revocationRequest(as, client, clientAuth, tokens.refresh_token!, {
      additionalParameters: { token_type_hint: 'refresh_token' },
      ...insecure,
    });
    await oauth.processRevocationResponse(revoked);

    const response = await oauth.refreshTokenGrantRequest(
      as,
      client,
      clientAuth,
      tokens.refresh_token!,
      insecure,
    );
    const error = await oauth.processRefreshTokenResponse(as, client, response).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect((error as oauth.ResponseBodyError).status).toBe(400);
    expect((error as oauth.ResponseBodyError).error).toBe('invalid_grant');

    // RFC 7009 §2.1: revoking a refresh token revokes the access tokens of its grant too
    // (the lab does), which introspection now reports as inactive.
    const introspected = await oauth.introspectionRequest(
      as,
      resourceServer,
      resourceServerAuth,
      tokens.access_token,
      insecure,
    );
    expect(await oauth.processIntrospectionResponse(as, resourceServer, introspected)).toEqual({
      active: false,
    });
  });
});

describe.each(versionsFrom('v07'))(
  '%s: oauth4webapi logs in with OpenID Connect against the lab',
  (version) => {
    let lab: Lab;
    let redirectUri: string;
    // id_token_signed_response_alg is RS256 unless said otherwise (OIDC Registration §2).
    const client: oauth.Client = { client_id: 'demo-client' };
    const clientAuth = oauth.ClientSecretBasic('demo-secret');
    const OIDC_SCOPE = 'openid profile email';

    let as: oauth.AuthorizationServer;
    let browser: Browser;
    let tokens: oauth.TokenEndpointResponse;
    let idToken: oauth.IDToken;

    beforeAll(async () => {
      lab = await startVersion<'as' | 'client' | 'rs'>(version);
      redirectUri = `${lab.urls.client}/callback`;
      browser = new Browser();
    });
    afterAll(() => lab.close());

    /** An authorization request for an OpenID Connect login, with `extra` parameters. */
    async function authorizationRequest(extra: Record<string, string> = {}) {
      const codeVerifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint!);
      for (const [name, value] of Object.entries({
        response_type: 'code',
        client_id: client.client_id,
        redirect_uri: redirectUri,
        scope: OIDC_SCOPE,
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        ...extra,
      })) {
        url.searchParams.set(name, value);
      }
      return { url, codeVerifier, state, nonce };
    }

    /** The browser at the authorization endpoint, through login and consent: the callback URL. */
    /** Redeem a callback's code, the way a relying party does (Core §3.1.3). */
    function redeem(params: URLSearchParams, codeVerifier: string) {
      return oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        params,
        redirectUri,
        codeVerifier,
        insecure,
      );
    }

    async function callbackUrlFor(url: URL, expectLogin: boolean) {
      const first = await browser.get(url.href);
      // Logged out, or asked for a fresh login: the AS's login form comes first.
      expect(first.location === '/login').toBe(expectLogin);
      const page = await throughAs(browser, first, redirectUri);
      return new URL(page.location!, page.url);
    }

    it('discovers the provider at /.well-known/openid-configuration (OIDC Discovery §4)', async () => {
      const issuer = new URL(lab.urls.as);
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure });
      expect(response.url).toBe(`${lab.urls.as}/.well-known/openid-configuration`);
      as = await oauth.processDiscoveryResponse(issuer, response);
      expect(as.issuer).toBe(lab.urls.as);
      expect(as).toMatchObject({
        userinfo_endpoint: `${lab.urls.as}/userinfo`,
        jwks_uri: `${lab.urls.as}/jwks.json`,
        subject_types_supported: ['public'],
        authorization_response_iss_parameter_supported: true,
      });
      expect(as.id_token_signing_alg_values_supported).toContain('RS256');
      expect(as.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    });

    it('logs in with code + PKCE + nonce through the AS’s forms; the response names its issuer (RFC 9207)', async () => {
      const { url, codeVerifier, state, nonce } = await authorizationRequest();
      const callbackUrl = await callbackUrlFor(url, true);
      expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(redirectUri);
      expect(callbackUrl.searchParams.get('iss')).toBe(lab.urls.as);

      // The metadata promised iss, so the library requires it, and requires it to be this AS.
      const without = new URL(callbackUrl);
      without.searchParams.delete('iss');
      expect(() => oauth.validateAuthResponse(as, client, without, state)).toThrow(/iss/);
      const foreign = new URL(callbackUrl);
      foreign.searchParams.set('iss', 'http://localhost:1');
      expect(() => oauth.validateAuthResponse(as, client, foreign, state)).toThrow(/iss/);
      const params = oauth.validateAuthResponse(as, client, callbackUrl, state);

      const response = await redeem(params, codeVerifier);
      // Core §3.1.3.7: iss, aud, azp, exp, iat, nonce, and the algorithm the client expects.
      tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: nonce,
        requireIdToken: true,
      });
      // And the signature, with a key of the provider's jwks_uri (the library makes it a step
      // of its own: over TLS, Core §3.1.3.7 step 6 lets a client skip it).
      await oauth.validateApplicationLevelSignature(as, response, insecure);

      expect(tokens.scope).toBe(OIDC_SCOPE);
      idToken = oauth.getValidatedIdTokenClaims(tokens)!;
      expect(idToken).toMatchObject({
        iss: lab.urls.as,
        sub: 'user0',
        aud: 'demo-client',
        nonce,
        at_hash: expect.any(String),
        auth_time: expect.any(Number),
      });
      expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
      // The library leaves at_hash alone in the code flow (Core §3.1.3.8: MAY). Computed here
      // apart from the lab: the left half of the SHA-256 of the access token (Core §3.1.3.6).
      const digest = createHash('sha256').update(tokens.access_token).digest();
      expect(idToken.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    });

    it('an error response names its issuer too (RFC 9207 §2): prompt=none, logged out → login_required', async () => {
      const { url, state } = await authorizationRequest({ prompt: 'none' });
      const page = await new Browser().get(url.href);
      const callbackUrl = new URL(page.location!, page.url);
      expect(`${callbackUrl.origin}${callbackUrl.pathname}`).toBe(redirectUri);
      // The library checks iss before it reads the error: without it, this would be an
      // "iss missing" failure, not the AS's error.
      const error = (() => {
        try {
          oauth.validateAuthResponse(as, client, callbackUrl, state);
        } catch (err) {
          return err;
        }
      })();
      expect(error).toBeInstanceOf(oauth.AuthorizationResponseError);
      expect((error as oauth.AuthorizationResponseError).error).toBe('login_required');
    });

    it('reads /userinfo with the access token: about the id_token’s sub (Core §5.3.2)', async () => {
      const response = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
      const userinfo = await oauth.processUserInfoResponse(as, client, idToken.sub, response);
      expect(userinfo).toMatchObject({
        sub: 'user0',
        preferred_username: 'user0',
        email: expect.any(String),
        email_verified: true,
      });
      // The library compares the sub: an answer about another user would be refused.
      const again = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
      await expect(oauth.processUserInfoResponse(as, client, 'user1', again)).rejects.toThrow(
        /sub/,
      );
    });

    it('max_age: the id_token’s auth_time says the login is recent enough (Core §3.1.2.1)', async () => {
      // Logged in moments ago and already consented: straight back with a code.
      const { url, codeVerifier, state, nonce } = await authorizationRequest({ max_age: '300' });
      const params = oauth.validateAuthResponse(
        as,
        client,
        await callbackUrlFor(url, false),
        state,
      );
      const response = await redeem(params, codeVerifier);
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: nonce,
        maxAge: 300,
        requireIdToken: true,
      });
      expect(oauth.getValidatedIdTokenClaims(result)!.auth_time).toBe(idToken.auth_time);
    });

    it('prompt=login: the AS asks for the password again, and auth_time moves on', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const { url, codeVerifier, state, nonce } = await authorizationRequest({ prompt: 'login' });
      const params = oauth.validateAuthResponse(as, client, await callbackUrlFor(url, true), state);
      const response = await redeem(params, codeVerifier);
      const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: nonce,
        maxAge: 0,
        requireIdToken: true,
      });
      expect(oauth.getValidatedIdTokenClaims(result)!.auth_time).toBeGreaterThan(
        idToken.auth_time!,
      );
    });
  },
);

describe.each(versionsFrom('v08'))(
  '%s: oauth4webapi plays the agent: client_credentials and token exchange (RFC 8693)',
  (version) => {
    let lab: Lab;
    // The agent is a confidential client of its own (auth-server/clients.ts).
    const agent: oauth.Client = { client_id: 'demo-agent' };
    const agentAuth = oauth.ClientSecretBasic('agent-secret');
    const subagent: oauth.Client = { client_id: 'demo-subagent' };
    const subagentAuth = oauth.ClientSecretBasic('subagent-secret');
    const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
    const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

    let as: oauth.AuthorizationServer;
    let jwks: ReturnType<typeof createRemoteJWKSet>;
    let own: oauth.TokenEndpointResponse;
    let exchanged: oauth.TokenEndpointResponse;

    beforeAll(async () => {
      lab = await startVersion<'as' | 'client' | 'rs'>(version);
    });
    afterAll(() => lab.close());

    /** A token exchange request as `client`, sent and processed by the library. */
    async function exchange(
      client: oauth.Client,
      auth: oauth.ClientAuth,
      parameters: Record<string, string>,
    ) {
      const response = await oauth.genericTokenEndpointRequest(
        as,
        client,
        auth,
        TOKEN_EXCHANGE,
        { subject_token_type: ACCESS_TOKEN_TYPE, ...parameters },
        insecure,
      );
      return oauth.processGenericTokenEndpointResponse(as, client, response);
    }

    it('discovers both grants in the metadata (RFC 8414 §2 grant_types_supported)', async () => {
      const issuer = new URL(lab.urls.as);
      const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
      as = await oauth.processDiscoveryResponse(issuer, response);
      expect(as.grant_types_supported).toEqual(
        expect.arrayContaining(['client_credentials', TOKEN_EXCHANGE]),
      );
      jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    });

    it('client_credentials (RFC 6749 §4.4): the agent’s own token, for the AS only, no refresh token', async () => {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        agent,
        agentAuth,
        new URLSearchParams(),
        insecure,
      );
      own = await oauth.processClientCredentialsResponse(as, agent, response);
      expect(own.token_type).toBe('bearer');
      expect(own.expires_in).toBeGreaterThan(0);
      // RFC 6749 §4.4.3: a refresh token SHOULD NOT be included.
      expect(own.refresh_token).toBeUndefined();
      const { payload } = await jwtVerify(own.access_token, jwks, {
        typ: 'at+jwt',
        issuer: lab.urls.as,
        audience: lab.urls.as,
      });
      expect(payload).toMatchObject({ sub: 'demo-agent', client_id: 'demo-agent' });
      expect(payload.act).toBeUndefined();
    });

    it('a generic token exchange request (RFC 8693 §2.1, §2.2.1): issued_token_type, no refresh token', async () => {
      const user = await tokensFor(lab, { scope: 'openid profile notes:read notes:write' });
      exchanged = await exchange(agent, agentAuth, {
        subject_token: user.access_token,
        actor_token: own.access_token,
        actor_token_type: ACCESS_TOKEN_TYPE,
        resource: lab.urls.rs,
        scope: 'notes:read',
      });
      expect(exchanged).toMatchObject({
        token_type: 'bearer',
        issued_token_type: ACCESS_TOKEN_TYPE,
        scope: 'notes:read',
      });
      expect(exchanged.expires_in).toBeGreaterThan(0);
      expect(exchanged.refresh_token).toBeUndefined();
    });

    it('the exchanged JWT checks out against the JWKS: typ at+jwt, iss, aud = the RS, and act (RFC 8693 §4.1)', async () => {
      const { payload, protectedHeader } = await jwtVerify(exchanged.access_token, jwks, {
        typ: 'at+jwt',
        issuer: lab.urls.as,
        audience: lab.urls.rs,
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({
        sub: 'user0',
        client_id: 'demo-agent',
        scope: 'notes:read',
        aud: lab.urls.rs,
        act: { sub: 'demo-agent' },
      });
      // And the library's own resource-server checks (RFC 9068 §4) agree.
      const apiRequest = new Request(`${lab.urls.rs}/api/notes`, {
        headers: { authorization: `Bearer ${exchanged.access_token}` },
      });
      const claims = await oauth.validateJwtAccessToken(as, apiRequest, lab.urls.rs, insecure);
      expect(claims.act).toEqual({ sub: 'demo-agent' });
      expect((await fetch(apiRequest)).status).toBe(200);
    });

    it('the sub-agent exchanges the agent’s token in turn: act nests (RFC 8693 §4.1)', async () => {
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        subagent,
        subagentAuth,
        new URLSearchParams(),
        insecure,
      );
      const subOwn = await oauth.processClientCredentialsResponse(as, subagent, response);
      const nested = await exchange(subagent, subagentAuth, {
        subject_token: exchanged.access_token,
        actor_token: subOwn.access_token,
        actor_token_type: ACCESS_TOKEN_TYPE,
        resource: lab.urls.rs,
      });
      const { payload } = await jwtVerify(nested.access_token, jwks, {
        typ: 'at+jwt',
        issuer: lab.urls.as,
        audience: lab.urls.rs,
      });
      expect(payload).toMatchObject({
        sub: 'user0',
        client_id: 'demo-subagent',
        scope: 'notes:read',
        act: { sub: 'demo-subagent', act: { sub: 'demo-agent' } },
      });
      expect(decodeJwt(nested.access_token).exp).toBeLessThanOrEqual(
        decodeJwt(exchanged.access_token).exp!,
      );
    });

    it('a refusal reaches the library as an OAuth error: a wider scope → invalid_scope (RFC 8693 §2.2.2)', async () => {
      const user = await tokensFor(lab, { scope: 'openid profile notes:read' });
      const error = await exchange(agent, agentAuth, {
        subject_token: user.access_token,
        resource: lab.urls.rs,
        scope: 'profile',
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(oauth.ResponseBodyError);
      expect((error as oauth.ResponseBodyError).status).toBe(400);
      expect((error as oauth.ResponseBodyError).error).toBe('invalid_scope');
    });
  },
);

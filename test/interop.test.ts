// Interoperability: an independent, spec-strict client library agrees with the lab. The lab's
// own tests are written by the same hands as the lab, and could share its misreadings of an
// RFC; oauth4webapi (panva) was not. Here it plays the client and the resource server against
// a fresh lab, from discovery (RFC 8414) to revocation (RFC 7009). If it refuses something
// the lab does, the lab is the one to fix: the step stays here as it.fails, naming the rule.

import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { loggedInBrowser, throughConsent } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';

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

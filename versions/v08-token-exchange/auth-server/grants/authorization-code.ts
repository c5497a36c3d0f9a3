// The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5, §4.6): the client
// trades the code the browser brought back, once, for tokens.

import type { Client } from '../clients.ts';
import { OAuthError, oneParam } from '../errors.ts';
import { signIdToken } from '../id-token.ts';
import { verifierMatches } from '../pkce.ts';
import { readResources } from '../resources.ts';
import type { Deps } from '../token.ts';
import { issueTokens, REFRESH_TOKEN_TTL_MS, revokeFamily, type TokenResponse } from '../tokens.ts';

export function authorizationCode(
  body: Record<string, unknown>,
  client: Client,
  deps: Deps,
): Promise<TokenResponse> {
  const { codes } = deps;
  const code = oneParam(body, 'code');
  const redirectUri = oneParam(body, 'redirect_uri');
  const verifier = oneParam(body, 'code_verifier');
  if (!code) throw new OAuthError('invalid_request', 'The code parameter is missing.');
  if (!redirectUri)
    throw new OAuthError('invalid_request', 'The redirect_uri parameter is missing.');
  if (!verifier)
    throw new OAuthError('invalid_request', 'The code_verifier parameter is missing (PKCE).');

  const grant = codes.get(code);
  if (!grant) throw new OAuthError('invalid_grant', 'The code is unknown or has expired.');
  if (grant.clientId !== client.clientId) {
    throw new OAuthError('invalid_grant', 'The code was issued to another client.');
  }
  // RFC 6749 §4.1.2, §10.5: a code works once. A second use means someone else has it, so
  // the tokens issued from the first use are revoked too. lab: MUST, where the RFC says SHOULD.
  if (grant.usedAt) {
    revokeFamily(deps, code);
    throw new OAuthError(
      'invalid_grant',
      'The code was already used; the tokens issued for it are now revoked.',
    );
  }
  // Mark it used before anything else can go wrong: a failed attempt burns the code too. The
  // check above and this mark run in one synchronous step, so of two redemptions at once
  // exactly one gets here first.
  codes.set(code, { ...grant, usedAt: new Date().toISOString() }, codes.expiresIn(code));

  // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
  if (redirectUri !== grant.redirectUri) {
    throw new OAuthError(
      'invalid_grant',
      'The redirect_uri differs from the one in the authorization request.',
    );
  }
  // RFC 7636 §4.6: only whoever started the flow knows the verifier behind the challenge.
  if (!verifierMatches(verifier, grant.codeChallenge)) {
    throw new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge.');
  }

  // RFC 8707 §2.2: the token may be for fewer of the granted resources, never for others.
  const resources = readResources(body, grant.resources);
  const owner = { clientId: client.clientId, username: grant.username, code };
  const tokens = issueTokens(deps, owner, grant.scope, resources, {
    scope: grant.scope,
    resources: grant.resources,
    generation: 0,
    ttlMs: REFRESH_TOKEN_TTL_MS,
  });
  // OpenID Connect Core §3.1.3.3: with `openid`, the response also says who logged in.
  if (!grant.scope.split(' ').includes('openid')) return tokens;
  return tokens.then(async (response) => ({
    ...response,
    id_token: await signIdToken(deps, {
      clientId: client.clientId,
      username: grant.username,
      nonce: grant.nonce,
      authTime: grant.authTime,
      accessToken: response.access_token,
    }),
  }));
}

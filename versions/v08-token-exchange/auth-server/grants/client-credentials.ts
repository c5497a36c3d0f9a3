// grant_type=client_credentials (RFC 6749 §4.4): a client asks for a token for itself, acting
// for nobody. An agent uses it to prove who it is when it exchanges a user's token.

import { randomBytes } from 'node:crypto';
import type { Client } from '../clients.ts';
import { OAuthError, oneParam } from '../errors.ts';
import type { Deps } from '../token.ts';
import { issueAccessToken, type TokenResponse } from '../tokens.ts';

export function clientCredentials(
  body: Record<string, unknown>,
  client: Client,
  deps: Deps,
): Promise<TokenResponse> {
  // lab: the token is the agent's identity, good only at this AS (as an actor_token): it
  // carries no scope, and a request for one is refused rather than quietly ignored.
  if (oneParam(body, 'scope') !== undefined) {
    throw new OAuthError('invalid_scope', "An agent's own token carries no scope here.");
  }
  // lab: sub is the client itself (RFC 9068 §2.2 allows this for a token that acts for no user).
  // Its own code-like family id, so revoking it touches nothing else.
  const record = {
    clientId: client.clientId,
    username: client.clientId,
    scope: '',
    resources: [],
    issuedAt: new Date(deps.now()).toISOString(),
    code: `client_credentials:${randomBytes(8).toString('base64url')}`,
  };
  const access = issueAccessToken(deps, record, { audience: [deps.issuer] });
  // RFC 6749 §4.4.3: no refresh token; the client simply asks again. No scope either.
  return access.sign().then((accessToken) => ({
    access_token: accessToken,
    token_type: 'Bearer' as const,
    expires_in: access.expiresIn,
  }));
}

// POST /token: the back channel, where a code becomes an access token (RFC 6749 §3.2, §4.1.3).

import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import type { CodeGrant } from './authorize.ts';
import { authenticateClient } from './client-auth.ts';
import type { Client } from './clients.ts';
import { formBody, OAuthError, oneParam } from './errors.ts';
import { verifierMatches } from './pkce.ts';

export interface AccessToken {
  clientId: string;
  username: string;
  scope: string | undefined;
  issuedAt: string;
  /** The code it was issued for, so a replayed code can revoke it (RFC 6749 §4.1.2). */
  code: string;
}

// lab: 10 minutes. Opaque tokens: random strings that mean something only to this server.
export const ACCESS_TOKEN_TTL_MS = 10 * 60_000;

interface Deps {
  clients: Map<string, Client>;
  codes: Store<CodeGrant>;
  accessTokens: Store<AccessToken>;
}

export function tokenRoutes(deps: Deps): Router {
  const router = Router();

  router.post('/token', (req, res) => {
    // RFC 6749 §5.1: token responses must not be cached. lab: errors neither.
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    try {
      const body = formBody(req);
      const client = authenticateClient(req, deps.clients);
      const grantType = oneParam(body, 'grant_type');
      if (!grantType)
        throw new OAuthError('invalid_request', 'The grant_type parameter is missing.');
      if (grantType !== 'authorization_code') {
        throw new OAuthError(
          'unsupported_grant_type',
          `This server does not support grant_type=${grantType}.`,
        );
      }
      if (!client.grantTypes.includes(grantType)) {
        throw new OAuthError(
          'unauthorized_client',
          `${client.clientId} may not use grant_type=${grantType}.`,
        );
      }
      res.json(redeemCode(body, client, deps));
    } catch (err) {
      if (err instanceof OAuthError) return sendError(res, err);
      throw err;
    }
  });

  return router;
}

/** The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5, §4.6). */
function redeemCode(body: Record<string, unknown>, client: Client, deps: Deps) {
  const { codes, accessTokens } = deps;
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
    for (const [token, issued] of accessTokens.entries()) {
      if (issued.code === code) accessTokens.delete(token);
    }
    throw new OAuthError(
      'invalid_grant',
      'The code was already used; the tokens issued for it are now revoked.',
    );
  }
  // Mark it used before anything else can go wrong: a failed attempt burns the code too.
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

  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const accessToken = randomBytes(32).toString('base64url');
  accessTokens.set(accessToken, {
    clientId: client.clientId,
    username: grant.username,
    scope: grant.scope,
    issuedAt: new Date().toISOString(),
    code,
  });

  // RFC 6749 §5.1.
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_TTL_MS / 1000,
    ...(grant.scope ? { scope: grant.scope } : {}),
  };
}

// RFC 6749 §5.2: a JSON error body, 400 unless the client failed to authenticate (401).
function sendError(res: Response, err: OAuthError) {
  res.set(err.headers);
  res.status(err.status).json({ error: err.error, error_description: err.description });
}

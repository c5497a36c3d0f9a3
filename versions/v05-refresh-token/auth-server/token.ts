// POST /token: the back channel, where a code becomes an access token (RFC 6749 §3.2, §4.1.3),
// and a refresh token becomes a fresh one (RFC 6749 §6).

import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import type { CodeGrant } from './authorize.ts';
import { authenticateClient } from './client-auth.ts';
import type { Client } from './clients.ts';
import { formBody, OAuthError, oneParam } from './errors.ts';
import { verifierMatches } from './pkce.ts';
import { parseScope } from './scopes.ts';

export interface AccessToken {
  clientId: string;
  username: string;
  /** Granted scopes, space-separated: what the bearer may do (RFC 6749 §3.3). */
  scope: string;
  issuedAt: string;
  /**
   * The code its grant started from. Every token issued from one code, directly or by
   * refreshing, is one family: a replayed code or refresh token revokes them all.
   */
  code: string;
}

export interface RefreshToken {
  clientId: string;
  username: string;
  /** The scope the user granted; a refresh may ask for less, never more (RFC 6749 §6). */
  scope: string;
  issuedAt: string;
  code: string;
  /** Set when it is used; a rotated token used again means it was stolen (RFC 9700 §4.14.2). */
  rotatedAt?: string;
}

// lab: 60 seconds by default, short enough to watch a token expire and be refreshed in class.
// Opaque tokens: random strings that mean something only to this server.
export const ACCESS_TOKEN_TTL_MS = 60_000;
// lab: a login lasts 8 hours, however often it is refreshed: every refresh token of a family
// expires when the first one does. A used (rotated) one is kept until then, to recognise reuse.
export const REFRESH_TOKEN_TTL_MS = 8 * 60 * 60_000;

interface Deps {
  clients: Map<string, Client>;
  codes: Store<CodeGrant>;
  accessTokens: Store<AccessToken>;
  refreshTokens: Store<RefreshToken>;
  accessTokenTtlMs: number;
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
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
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
      const grant = grantType === 'authorization_code' ? redeemCode : refresh;
      res.json(grant(body, client, deps));
    } catch (err) {
      if (err instanceof OAuthError) return sendError(res, err);
      throw err;
    }
  });

  return router;
}

/** The authorization_code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5, §4.6). */
function redeemCode(body: Record<string, unknown>, client: Client, deps: Deps) {
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

  const owner = { clientId: client.clientId, username: grant.username, code };
  return issueTokens(deps, owner, grant.scope, grant.scope);
}

/**
 * The refresh_token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): every refresh
 * token works once and comes back replaced. If a used one shows up again, two parties hold
 * it, and the AS cannot tell which is the thief: the whole family is revoked.
 */
function refresh(body: Record<string, unknown>, client: Client, deps: Deps) {
  const { refreshTokens } = deps;
  const token = oneParam(body, 'refresh_token');
  if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is missing.');
  const requested = oneParam(body, 'scope');

  const stored = refreshTokens.get(token);
  // How long this login has left: every refresh token of the family ends with the first one.
  const familyLeftMs = refreshTokens.expiresIn(token);
  if (!stored || familyLeftMs === undefined) {
    throw new OAuthError('invalid_grant', 'The refresh token is unknown, expired or revoked.');
  }
  if (stored.clientId !== client.clientId) {
    throw new OAuthError('invalid_grant', 'The refresh token was issued to another client.');
  }
  if (stored.rotatedAt) {
    revokeFamily(deps, stored.code);
    throw new OAuthError(
      'invalid_grant',
      'The refresh token was already used: it may be stolen, so every token of this grant is now revoked.',
    );
  }

  // RFC 6749 §6: a narrower scope is fine, a wider one is not; none means the original.
  const granted = stored.scope.split(' ');
  const scopes = requested?.trim() ? parseScope(requested) : granted;
  const wider = scopes.filter((scope) => !granted.includes(scope));
  if (wider.length > 0) {
    throw new OAuthError('invalid_scope', `Not granted originally: ${wider.join(' ')}.`);
  }

  refreshTokens.set(token, { ...stored, rotatedAt: new Date().toISOString() }, familyLeftMs);
  // The new access token gets the narrow scope; the new refresh token keeps the original, and
  // the family's end: refreshing never makes a login last longer.
  const owner = { clientId: client.clientId, username: stored.username, code: stored.code };
  return issueTokens(deps, owner, scopes.join(' '), stored.scope, familyLeftMs);
}

/** A new access token and a new refresh token, one family, as an RFC 6749 §5.1 response. */
function issueTokens(
  deps: Deps,
  owner: { clientId: string; username: string; code: string },
  scope: string,
  refreshScope: string,
  refreshTtlMs = REFRESH_TOKEN_TTL_MS,
) {
  const issuedAt = new Date().toISOString();
  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const accessToken = randomBytes(32).toString('base64url');
  const refreshToken = randomBytes(32).toString('base64url');
  deps.accessTokens.set(accessToken, { ...owner, scope, issuedAt }, deps.accessTokenTtlMs);
  deps.refreshTokens.set(refreshToken, { ...owner, scope: refreshScope, issuedAt }, refreshTtlMs);

  // RFC 6749 §5.1.
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.round(deps.accessTokenTtlMs / 1000),
    // RFC 6749 §5.1: required when it differs from the request; lab: always, so the client
    // sees exactly what the user granted.
    scope,
    refresh_token: refreshToken,
  };
}

/** Revoke every access and refresh token issued from one code (RFC 9700 §4.14.2). */
export function revokeFamily(
  deps: Pick<Deps, 'accessTokens' | 'refreshTokens'>,
  code: string,
): void {
  for (const [token, issued] of deps.accessTokens.entries()) {
    if (issued.code === code) deps.accessTokens.delete(token);
  }
  for (const [token, issued] of deps.refreshTokens.entries()) {
    if (issued.code === code) deps.refreshTokens.delete(token);
  }
}

// RFC 6749 §5.2: a JSON error body, 400 unless the client failed to authenticate (401).
export function sendError(res: Response, err: OAuthError) {
  res.set(err.headers);
  res.status(err.status).json({ error: err.error, error_description: err.description });
}

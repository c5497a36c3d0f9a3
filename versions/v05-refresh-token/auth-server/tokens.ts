// The tokens the AS issues: what it keeps for each, issuing them for a grant, and revoking
// every token one grant produced.

import { randomBytes } from 'node:crypto';
import type { Store } from '../../../shared/store.ts';

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
  /** How many refresh tokens of this family came before it: 0 for the first. */
  generation: number;
  /** Set when it is used; a rotated token used again means it was stolen (RFC 9700 §4.14.2). */
  rotatedAt?: string;
}

// lab: 60 seconds by default, short enough to watch a token expire and be refreshed in class.
// Opaque tokens: random strings that mean something only to this server.
export const ACCESS_TOKEN_TTL_MS = 60_000;
// lab: a login lasts 8 hours, however often it is refreshed: every refresh token of a family
// expires when the first one does. A used (rotated) one is kept until then, to recognise reuse.
export const REFRESH_TOKEN_TTL_MS = 8 * 60 * 60_000;
// lab: a login may be refreshed this many times (8 hours of 60-second tokens take 480). Each
// rotated token is kept to recognise reuse, so this bounds what one family holds; past it the
// login ends, rather than older tokens being forgotten and reuse going unnoticed.
export const MAX_REFRESHES = 1_000;

export interface TokenStores {
  accessTokens: Store<AccessToken>;
  refreshTokens: Store<RefreshToken>;
}

/** Who a grant's tokens are for, and the code the grant started from. */
export interface Owner {
  clientId: string;
  username: string;
  code: string;
}

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token: string;
}

/** A new access token and a new refresh token, one family, as an RFC 6749 §5.1 response. */
export function issueTokens(
  stores: TokenStores,
  owner: Owner,
  scope: string,
  // The refresh token's scope, generation and end: a refresh passes on the family's.
  refresh = { scope, generation: 0, ttlMs: REFRESH_TOKEN_TTL_MS },
): TokenResponse {
  const issuedAt = new Date().toISOString();
  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const accessToken = randomBytes(32).toString('base64url');
  const refreshToken = randomBytes(32).toString('base64url');
  stores.accessTokens.set(accessToken, { ...owner, scope, issuedAt });
  const { generation, ttlMs } = refresh;
  stores.refreshTokens.set(
    refreshToken,
    { ...owner, scope: refresh.scope, issuedAt, generation },
    ttlMs,
  );

  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.round(stores.accessTokens.ttlMs / 1000),
    // RFC 6749 §5.1: required when it differs from the request; lab: always, so the client
    // sees exactly what the user granted.
    scope,
    refresh_token: refreshToken,
  };
}

/** Revoke every access and refresh token issued from one code (RFC 9700 §4.14.2). */
export function revokeFamily(stores: TokenStores, code: string): void {
  for (const [token, issued] of stores.accessTokens.entries()) {
    if (issued.code === code) stores.accessTokens.delete(token);
  }
  for (const [token, issued] of stores.refreshTokens.entries()) {
    if (issued.code === code) stores.refreshTokens.delete(token);
  }
}

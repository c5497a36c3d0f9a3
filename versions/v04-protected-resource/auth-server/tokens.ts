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
   * The code its grant started from. Every token issued from one code is one family: a
   * replayed code revokes them all (RFC 6749 §4.1.2).
   */
  code: string;
}

// lab: 10 minutes. Opaque tokens: random strings that mean something only to this server.
export const ACCESS_TOKEN_TTL_MS = 10 * 60_000;

export interface TokenStores {
  accessTokens: Store<AccessToken>;
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
}

/** A new access token for `owner`, as an RFC 6749 §5.1 response. */
export function issueTokens(stores: TokenStores, owner: Owner, scope: string): TokenResponse {
  const issuedAt = new Date().toISOString();
  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const accessToken = randomBytes(32).toString('base64url');
  stores.accessTokens.set(accessToken, { ...owner, scope, issuedAt });

  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: Math.round(stores.accessTokens.ttlMs / 1000),
    // RFC 6749 §5.1: required when it differs from the request; lab: always, so the client
    // sees exactly what the user granted.
    scope,
  };
}

/** Revoke every token issued from one code. */
export function revokeFamily(stores: TokenStores, code: string): void {
  for (const [token, issued] of stores.accessTokens.entries()) {
    if (issued.code === code) stores.accessTokens.delete(token);
  }
}

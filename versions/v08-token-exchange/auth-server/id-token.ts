// The id_token (OpenID Connect Core §2): a signed statement for the client, not for an API,
// that says who logged in, when, and for which login request. Same keys and JWKS as the
// access tokens, but a different `typ` and audience, so neither passes for the other.

import { createHash } from 'node:crypto';
import type { Signer } from './tokens.ts';

// lab: 5 minutes. The client checks an id_token once, right after the login; it is not a
// session, and nothing should accept it later.
export const ID_TOKEN_TTL_S = 300;

export interface Login {
  clientId: string;
  username: string;
  /** The nonce the client sent in its authorization request, if any. */
  nonce: string | undefined;
  /** When the user logged in, in seconds since 1970. */
  authTime: number;
  /** The access token issued with it, for `at_hash`. */
  accessToken: string;
}

export function signIdToken(deps: Signer, login: Login): Promise<string> {
  const iat = Math.floor(deps.now() / 1000);
  // Core §2: iss, sub, aud, exp and iat are required; auth_time (lab: always) and nonce (when
  // the request had one) bind it to this login; at_hash to the access token beside it.
  const claims = {
    iss: deps.issuer,
    sub: login.username,
    aud: login.clientId,
    exp: iat + ID_TOKEN_TTL_S,
    iat,
    auth_time: login.authTime,
    ...(login.nonce === undefined ? {} : { nonce: login.nonce }),
    at_hash: atHash(login.accessToken),
  };
  // lab: typ JWT, never at+jwt, so a resource server refuses an id_token as an access token.
  return deps.keys.sign('JWT', claims);
}

/**
 * Core §3.1.3.6: the base64url of the left half of the SHA-256 of the access token (SHA-256
 * because the id_token is signed RS256).
 */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

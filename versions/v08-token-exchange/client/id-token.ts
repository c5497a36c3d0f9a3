// The client checks the id_token before it believes who logged in (OpenID Connect Core
// §3.1.3.7). Every check answers a different attack, so each failure has its own name: the
// page says which one, and nobody is logged in.

import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';

/** Which check failed, and why, in words. */
export class IdTokenError extends Error {
  readonly check: string;
  constructor(check: string, message: string) {
    super(message);
    this.name = 'IdTokenError';
    this.check = check;
  }
}

export interface Expected {
  /** The issuer this login went to, exactly as discovered. */
  issuer: string;
  clientId: string;
  /** The AS's public keys, as fetched from its jwks_uri. */
  keys: JWK[];
  /** The nonce this browser's authorization request carried. */
  nonce: string;
  /** The access token that came with it, for at_hash. */
  accessToken: string;
  /** The max_age the request asked for, if any: then auth_time must be recent enough. */
  maxAge: number | undefined;
  now: () => number;
}

// Core §3.1.3.7 step 6: the algorithm the client registered for (RS256), never one the token
// names by itself: not `none`, not HS256 keyed with a public key.
const ALGORITHMS = ['RS256'];
// RFC 7519 §4.1.4: leeway for clocks; and step 10: an id_token older than this is refused.
const CLOCK_TOLERANCE_S = 5;
const MAX_AGE_OF_ID_TOKEN_S = 300;

export async function validateIdToken(idToken: string, expected: Expected): Promise<JWTPayload> {
  const { issuer, clientId, nonce, accessToken, maxAge, now } = expected;
  // typ: OpenID Connect sets none, and RFC 7519 §5.1 makes it optional, so a missing one is
  // fine; one that names another kind of JWT (at+jwt: an access token signed by the same keys)
  // is refused before anything else.
  const typ = headerOf(idToken).typ;
  if (typ !== undefined && !/^(application\/)?jwt$/i.test(typ)) {
    throw new IdTokenError('typ', 'This is not an id_token: its typ names another kind of JWT.');
  }
  let payload: JWTPayload;
  try {
    // Steps 2, 3, 6, 7, 9, 10: iss exact, aud has this client, signature with the AS's key and
    // an allowed algorithm, not expired, issued recently.
    ({ payload } = await jwtVerify(idToken, createLocalJWKSet({ keys: expected.keys }), {
      algorithms: ALGORITHMS,
      issuer,
      audience: clientId,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
      maxTokenAge: MAX_AGE_OF_ID_TOKEN_S,
      clockTolerance: CLOCK_TOLERANCE_S,
      currentDate: new Date(now()),
    }));
  } catch (err) {
    throw failed(err);
  }
  // Step 3: no audience the client does not trust. This client trusts only itself.
  const audiences = [payload.aud].flat();
  if (audiences.some((aud) => aud !== clientId)) {
    throw new IdTokenError(
      'aud',
      'The id_token is also meant for someone else: its aud lists others.',
    );
  }
  // Step 11: the nonce this browser sent, so an id_token from another login (a replay, or one
  // slipped in by an attacker) is refused.
  if (payload.nonce !== nonce) {
    throw new IdTokenError('nonce', 'The id_token’s nonce is not the one this login sent.');
  }
  // Core §3.1.3.8: the access token beside it is the one the AS issued with it.
  if (payload.at_hash !== undefined && payload.at_hash !== atHash(accessToken)) {
    throw new IdTokenError('at_hash', 'The id_token’s at_hash does not match the access token.');
  }
  // Step 13: max_age asked for a recent login; auth_time says when it was.
  if (maxAge !== undefined) {
    const authTime = payload.auth_time;
    if (typeof authTime !== 'number') {
      throw new IdTokenError(
        'auth_time',
        'max_age was asked for, and the id_token has no auth_time.',
      );
    }
    if (now() / 1000 - authTime > maxAge + CLOCK_TOLERANCE_S) {
      throw new IdTokenError('auth_time', `The login is older than the max_age of ${maxAge} s.`);
    }
  }
  return payload;
}

/** The JOSE header, or a format error: the typ check reads it before the signature. */
function headerOf(idToken: string) {
  try {
    return decodeProtectedHeader(idToken);
  } catch {
    throw new IdTokenError('format', 'The id_token is not a well-formed signed JWT.');
  }
}

/** Core §3.1.3.6: base64url of the left half of the SHA-256 of the access token. */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** jose's error, named by the check it stands for. */
function failed(err: unknown): IdTokenError {
  if (err instanceof errors.JWTExpired) {
    // jose reports an iat older than maxTokenAge as JWTExpired too, naming the iat claim.
    return err.claim === 'iat'
      ? new IdTokenError('iat', 'The id_token was issued too long ago.')
      : new IdTokenError('exp', 'The id_token has expired.');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    const reasons: Record<string, string> = {
      iss: 'The id_token was issued by another authorization server than the one this login used.',
      aud: 'The id_token is not meant for this client: its aud does not name it.',
      iat: 'The id_token was issued too long ago, or in the future.',
      nbf: 'The id_token is not valid yet.',
    };
    return new IdTokenError(
      err.claim,
      reasons[err.claim] ?? `The id_token lacks a valid ${err.claim} claim.`,
    );
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new IdTokenError(
      'alg',
      'The id_token is signed with an algorithm this client does not accept.',
    );
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return new IdTokenError(
      'kid',
      'No key the authorization server publishes has this id_token’s kid.',
    );
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new IdTokenError(
      'signature',
      'The id_token’s signature does not verify with the authorization server’s keys.',
    );
  }
  return new IdTokenError('format', 'The id_token is not a well-formed signed JWT.');
}

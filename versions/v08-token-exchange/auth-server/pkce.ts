// PKCE, the authorization server's half (RFC 7636): remember the challenge with the code,
// and at the token endpoint accept only the verifier that hashes to it.

import { createHash } from 'node:crypto';
import { OAuthError, oneParam } from './errors.ts';
import { safeEqual } from './safe-equal.ts';

// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
// An S256 challenge is BASE64URL(SHA-256(verifier)): 32 bytes, always 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Read code_challenge and code_challenge_method from an authorization request. */
export function readChallenge(query: Record<string, unknown>): string {
  const challenge = oneParam(query, 'code_challenge');
  const method = oneParam(query, 'code_challenge_method');
  // lab: PKCE on every request, with S256 (RFC 9700 §2.1.1 requires it of public clients). A
  // missing method means plain (RFC 7636 §4.3), which we refuse like any other (§4.4.1).
  if (!challenge) {
    throw new OAuthError(
      'invalid_request',
      'The code_challenge parameter is missing (PKCE is required).',
    );
  }
  if (method !== 'S256') {
    throw new OAuthError(
      'invalid_request',
      method === undefined
        ? 'transform algorithm not supported: code_challenge_method is missing, which means plain; use S256.'
        : 'transform algorithm not supported: code_challenge_method must be S256.',
    );
  }
  if (!S256_CHALLENGE.test(challenge)) {
    throw new OAuthError('invalid_request', 'The code_challenge is not a base64url SHA-256 hash.');
  }
  return challenge;
}

/** RFC 7636 §4.6: the verifier must hash to the challenge stored with the code. */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const hashed = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  return safeEqual(hashed, challenge);
}

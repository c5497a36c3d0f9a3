// PKCE, the client's half (RFC 7636): a fresh secret per flow that only this client knows.
// Its hash travels in the front channel; the secret itself only in the back channel.

import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636 §4.1: 32 random bytes, base64url: 43 characters of [A-Za-z0-9_-]. */
export function createVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 §4.2: S256, BASE64URL(SHA256(ASCII(code_verifier))), unpadded. */
export function challengeFor(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

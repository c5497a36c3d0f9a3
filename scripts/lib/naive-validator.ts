// What NOT to do, for the tests and the attack script only, never in the product: a
// "validator" that decodes a JWT access token and believes it, without checking the
// signature, the algorithm, the issuer, the audience or the expiry. Every forged token of the
// JWT attacks gets past it; v06's resource server refuses every one.

import { decodeJwt } from 'jose';

/** The claims of `token` if it merely decodes and grants `scope`; undefined otherwise. */
export function naiveValidate(token: string, scope: string) {
  try {
    const claims = decodeJwt(token);
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    return scopes.includes(scope) ? claims : undefined;
  } catch {
    return undefined;
  }
}

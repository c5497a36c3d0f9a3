// What NOT to do, for the tests and the attack script only, never in the product: a relying
// party that takes "a JWT signed by my AS, with a sub" as proof that this user just logged in
// here. It checks the signature against the AS's keys, the issuer and the expiry (what a
// hurried tutorial does), and nothing that ties the token to this client and this login: not
// its typ, not its aud, not its nonce. So it accepts an id_token replayed from an earlier login
// and an access token passed off as an id_token; v07's client refuses both.

import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';

export interface NaiveRpOptions {
  /** The AS the relying party trusts. */
  issuer: string;
  /** That AS's published keys (its JWKS). */
  keys: JWK[];
}

/** The user the naive relying party would log in with `idToken`, or undefined if it refuses. */
export async function naiveSignIn(
  idToken: string,
  { issuer, keys }: NaiveRpOptions,
): Promise<string | undefined> {
  try {
    const { payload } = await jwtVerify(idToken, createLocalJWKSet({ keys }), { issuer });
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

// The AS's signing keys. Access tokens are JWTs signed with the current private key (RS256,
// RFC 9068 §2.1); anyone can check them with the public keys, which the AS publishes as a JSON
// Web Key Set at its jwks_uri (RFC 7517 §5). Every token names its key in the `kid` header.
//
// Rotation: the AS publishes its next key before it signs with it, so a resource server that
// fetched the key set a moment ago already holds it when the first token of that key arrives.
// Rotating makes the next key current, keeps the old current one published as 'previous' so
// tokens it signed still verify until it is retired, and makes a new next key. Once retired,
// the old key's tokens are refused everywhere, as soon as each resource server fetches the set.

import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** The public half as a JWK, as published: never the private parameters. */
  publicJwk: JWK;
  createdAt: string;
  /** 'current' signs; 'next' is published ahead of signing; 'previous' only verifies, until retired. */
  status: 'next' | 'current' | 'previous';
}

// RFC 9068 §2.1 / RFC 7518 §3.1: RS256, which every AS and RS must support.
export const ALGORITHM = 'RS256';

export function createSigningKeys(now: () => number = Date.now) {
  const keys: SigningKey[] = [newKey(now, 'next'), newKey(now, 'current')];
  const current = () => keys.find((key) => key.status === 'current')!;
  const next = () => keys.find((key) => key.status === 'next')!;

  return {
    /** The key set for the jwks_uri: public keys only (RFC 7517 §5). */
    jwks: () => ({ keys: keys.map((key) => key.publicJwk) }),
    /** Every key with its status and age, for the AS's pages (the private keys left out). */
    list: () => keys.map(({ kid, createdAt, status }) => ({ kid, createdAt, status })),

    /** Sign `claims` as a JWT of type `typ` with the current key. */
    sign(typ: string, claims: JWTPayload): Promise<string> {
      const { kid, privateKey } = current();
      return new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, typ, kid }).sign(privateKey);
    },

    /** Verify a JWT this AS signed, with a key it still publishes; throws when it is not one. */
    verify(token: string, options: { typ: string; audience?: string[] }) {
      return jwtVerify(token, createLocalJWKSet({ keys: keys.map((key) => key.publicJwk) }), {
        algorithms: [ALGORITHM],
        typ: options.typ,
        ...(options.audience ? { audience: options.audience } : {}),
        currentDate: new Date(now()),
      });
    },

    /** The next key signs from now on; the old current one stays published as 'previous'
     *  until it is retired; a new next key is published, ready for the rotation after. */
    rotate() {
      const [oldCurrent, newCurrent] = [current(), next()];
      oldCurrent.status = 'previous';
      newCurrent.status = 'current';
      keys.unshift(newKey(now, 'next'));
    },

    /** Stop publishing (and trusting) the previous keys: only the current and the next remain. */
    retire() {
      keys.splice(0, keys.length, next(), current());
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;

function newKey(now: () => number, status: SigningKey['status']): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('base64url');
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey,
    publicJwk: { kty, n, e, kid, alg: ALGORITHM, use: 'sig' } as JWK,
    createdAt: new Date(now()).toISOString(),
    status,
  };
}

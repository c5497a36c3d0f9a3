// The AS's signing keys. Access tokens are JWTs signed with the current private key (RS256,
// RFC 9068 §2.1); anyone can check them with the public keys, which the AS publishes as a JSON
// Web Key Set at its jwks_uri (RFC 7517 §5). Every token names its key in the `kid` header.
//
// Rotation: a new key signs from now on; the previous one stays published, so tokens it signed
// still verify, until it is retired. Then they are refused everywhere, once each resource
// server has fetched the new key set.

import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  /** The public half as a JWK, as published: never the private parameters. */
  publicJwk: JWK;
  createdAt: string;
  /** 'current' signs; 'previous' only verifies, until it is retired. */
  status: 'current' | 'previous';
}

// RFC 9068 §2.1 / RFC 7518 §3.1: RS256, which every AS and RS must support.
export const ALGORITHM = 'RS256';

export function createSigningKeys(now: () => number = Date.now) {
  const keys: SigningKey[] = [newKey(now)];
  const current = () => keys.find((key) => key.status === 'current')!;

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

    /** A new current key; the old one stays published as 'previous' until it is retired. */
    rotate() {
      for (const key of keys) key.status = 'previous';
      keys.unshift(newKey(now));
    },

    /** Stop publishing (and trusting) every key but the current one. */
    retire() {
      keys.splice(0, keys.length, current());
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;

function newKey(now: () => number): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('base64url');
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey,
    publicJwk: { kty, n, e, kid, alg: ALGORITHM, use: 'sig' } as JWK,
    createdAt: new Date(now()).toISOString(),
    status: 'current',
  };
}

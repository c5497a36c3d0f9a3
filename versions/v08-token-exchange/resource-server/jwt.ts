// Local validation: the resource server checks a JWT access token by itself, with the AS's
// public keys, without asking the AS anything (RFC 9068 §4; RFC 8725 §3). Fast, and the AS can
// be down. The price: a token the AS has revoked still passes here until it expires.

import { createLocalJWKSet, errors, jwtVerify, type JWK, type JWTHeaderParameters } from 'jose';
import type { TrustedAs } from './authorization-server.ts';
import { OAuthError } from './errors.ts';
import { actorsOf, type ValidToken } from './bearer.ts';

// How long a fetched key set is trusted before it is fetched again, and the least time
// between two fetches prompted by a token whose `kid` the set does not have. lab: short, so a
// retired key stops working within a minute; a real RS keeps keys for hours.
export const JWKS_MAX_AGE_MS = 60_000;
export const JWKS_COOLDOWN_MS = 10_000;

// RFC 8725 §3.1: a fixed list of algorithms, never taken from the token. Not `none`, and not
// HS256, whose "secret" an attacker would take to be the AS's public key (alg confusion).
const ALGORITHMS = ['RS256'];
// RFC 7519 §4.1.4: a little leeway for clocks that disagree. lab: 5 s (SPEC allows up to 60):
// every app of the lab reads one machine's clock, and a 60-second token should not live 120.
const CLOCK_TOLERANCE_S = 5;

export function localValidator({ as, audience, now }: Deps) {
  const jwks = keyCache(as, now);
  const validate = async (token: string): Promise<ValidToken> => {
    try {
      const { payload } = await jwtVerify(token, jwks.keyFor, {
        algorithms: ALGORITHMS,
        // RFC 9068 §2.1, §4: the header says this is an access token, not an id_token or any
        // other JWT the same AS signed.
        typ: 'at+jwt',
        issuer: as.issuer,
        // RFC 9068 §4: the token must be for this resource server (audience restriction).
        audience,
        requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now()),
      });
      return {
        sub: String(payload.sub),
        clientId: String(payload.client_id),
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
        jti: String(payload.jti),
        actors: actorsOf(payload.act),
        ...(typeof payload.task_id === 'string' ? { taskId: payload.task_id } : {}),
      };
    } catch (err) {
      // Not a JOSE error: the key set could not be fetched at all, which says nothing about the
      // token. bearer.ts answers 503 for it.
      if (!(err instanceof errors.JOSEError)) throw err;
      throw new OAuthError('invalid_token', reasonOf(err), 401);
    }
  };
  return { validate, keys: jwks.state };
}

interface Deps {
  as: TrustedAs;
  /** This resource server's identifier: its base URL (RFC 9728 §3.3). */
  audience: string;
  now: () => number;
}

/** The AS's key set, fetched from its jwks_uri, fetched again when it is old or lacks a kid. */
function keyCache(as: TrustedAs, now: () => number) {
  let keys: JWK[] = [];
  let fetchedAt = -Infinity;
  // The last attempt to fetch, whether or not it worked: the cooldown counts from it.
  let triedAt = -Infinity;
  let fetching: Promise<void> | undefined;

  const refetch = () => {
    fetching ??= as
      .metadata()
      .then((metadata) => fetch(metadata.jwks_uri, { signal: AbortSignal.timeout(5_000) }))
      .then((response) => response.json() as Promise<{ keys: JWK[] }>)
      .then((set) => {
        if (!Array.isArray(set?.keys)) throw new Error('The jwks_uri did not answer a key set.');
        keys = set.keys;
        fetchedAt = now();
      })
      .finally(() => (fetching = undefined));
    return fetching;
  };

  // Fetch the set again, unless the last try was less than the cooldown ago. When the AS cannot
  // be reached, the keys already held stay in use: the tokens they verify are as good as they
  // were (lab: for as long as the AS is down; a real RS would set a limit).
  const refresh = async () => {
    if (!fetching && now() - triedAt < JWKS_COOLDOWN_MS) return;
    if (!fetching) triedAt = now();
    await refetch().catch((err: unknown) => {
      if (!Number.isFinite(fetchedAt)) throw err;
    });
  };

  return {
    async keyFor(header: JWTHeaderParameters) {
      if (now() - fetchedAt > JWKS_MAX_AGE_MS) await refresh();
      // A kid we do not know may be a new key after a rotation: fetch the set once more, but
      // not more often than the cooldown, or junk tokens could make us hammer the AS.
      if (!keys.some((key) => key.kid === header.kid)) await refresh();
      if (!Number.isFinite(fetchedAt)) throw new Error('The AS’s key set was never fetched.');
      return createLocalJWKSet({ keys })(header);
    },
    state: () => ({
      kids: keys.map((key) => key.kid),
      fetchedAt: Number.isFinite(fetchedAt) ? new Date(fetchedAt).toISOString() : 'never',
    }),
  };
}

/** Which check failed, in words, for the error_description and the decision log. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'The access token has expired.';
  if (err instanceof errors.JWTClaimValidationFailed) {
    const reasons: Record<string, string> = {
      typ: 'The token is not an access token: its typ header is not at+jwt.',
      iss: 'The token was not issued by the authorization server this API trusts.',
      aud: 'The token is not meant for this API: its aud claim names another resource.',
      nbf: 'The token is not valid yet.',
      iat: 'The token was issued in the future.',
    };
    return reasons[err.claim] ?? `The token lacks a valid ${err.claim} claim.`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return 'The token is signed with an algorithm this API does not accept.';
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return 'No key the authorization server publishes has this kid.';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return 'The signature does not verify: the token was not signed by the authorization server.';
  }
  return 'The access token is not a well-formed JWT.';
}

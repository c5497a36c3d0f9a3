// JWT access tokens (RFC 9068) and what a resource server must check before it believes one
// (RFC 9068 §4; RFC 8725 §3.1): every forged token below gets past a validator that only
// decodes (scripts/lib/naive-validator.ts, never in the product), and each is refused by the
// v06 resource server with 401 invalid_token, naming the check that failed.

import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
} from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, apiPost, setValidation } from '../scripts/lib/api.ts';
import {
  EXPIRED_MS,
  manualClock,
  startApp,
  startVersion,
  versionsFrom,
} from '../scripts/lib/lab.ts';
import { naiveValidate } from '../scripts/lib/naive-validator.ts';
import { rsState } from '../scripts/lib/state.ts';
import { postAsClient, tokensFor } from '../scripts/lib/token.ts';
import { startFakeAs, type FakeAs } from './fixtures/fake-as.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

describe.each(versionsFrom('v06'))('%s: JWT access tokens', (version) => {
  let lab: Lab;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  it('the access token is a signed JWT of type at+jwt, with the RFC 9068 §2.2 claims', async () => {
    const tokens = await tokensFor(lab, { scope: 'profile notes:read' });
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(header.kid).toBeTruthy();
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: lab.urls.as,
      sub: 'user0',
      aud: lab.urls.rs,
      client_id: 'demo-client',
      scope: 'profile notes:read',
    });
    expect(claims.jti).toMatch(/^[\w-]{22,}$/);
    expect(claims.exp! - claims.iat!).toBe(tokens.expires_in);
    expect(tokens.refresh_token).toMatch(/^[\w-]{43}$/); // still opaque
  });

  it('verifies against the JWKS, which holds public keys only, each with its kid', async () => {
    const metadata = (await request(lab.urls.as).get('/.well-known/oauth-authorization-server'))
      .body as { jwks_uri: string };
    const jwks = (await fetch(metadata.jwks_uri).then((r) => r.json())) as { keys: JWK[] };
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    }
    const { access_token: token } = await tokensFor(lab);
    const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      currentDate: new Date(clock.now()),
    });
    expect(jwks.keys.map((key) => key.kid)).toContain(protectedHeader.kid);
  });

  it('the RS logs each call it allowed with the status the API answered', async () => {
    const { access_token: token } = await tokensFor(lab, { scope: 'notes:read notes:write' });
    await apiPost(lab, '/api/notes', token).send({ text: 'logged' }).expect(201);
    await apiGet(lab, '/api/notes', token).expect(200);
    const [read, write] = (await rsState(lab)).decisions;
    expect(read).toMatchObject({ request: 'GET /api/notes', status: 200, outcome: 'allowed' });
    expect(write).toMatchObject({ request: 'POST /api/notes', status: 201, outcome: 'allowed' });
  });

  describe('the revocation trade-off', () => {
    it('after /revoke, an introspecting API refuses the token at once; a JWT-checking one only when it expires', async () => {
      const tokens = await tokensFor(lab);
      expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(200);
      const revoked = await postAsClient(lab, '/revoke', { token: tokens.access_token });
      expect(revoked.status).toBe(200);

      await setValidation(lab, 'introspection');
      expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(401);
      await setValidation(lab, 'jwt');
      // The signature, issuer, audience and expiry are all fine: the API cannot tell.
      expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(200);
      clock.advance(EXPIRED_MS);
      expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(401);
    });
  });
});

describe.each(versionsFrom('v06'))(
  '%s: what the resource server checks (RFC 9068 §4)',
  (version) => {
    let fakeAs: FakeAs;
    let rs: { url: string; close(): Promise<void> };
    const clock = manualClock();
    beforeAll(async () => {
      fakeAs = await startFakeAs();
      rs = await startResourceServer(version, fakeAs.url, clock.now);
    });
    afterAll(async () => {
      await rs.close();
      await fakeAs.close();
    });

    const good = () => fakeAs.goodClaims(rs.url, clock.now());
    const call = (token: string) =>
      request(rs.url).get('/api/me').set('Authorization', `Bearer ${token}`);

    /** The forged token gets past a decode-only validator, and v06's RS refuses it. */
    async function expectRefused(token: string, why: RegExp) {
      expect(naiveValidate(token, 'profile')).toBeDefined();
      const response = await call(token);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_token');
      expect(response.body.error_description).toMatch(why);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    }

    it('accepts a token that passes every check', async () => {
      const response = await call(await fakeAs.sign(good()));
      expect(response.status).toBe(200);
      expect(response.body.username).toBe('user0');
    });

    it('a forged signature (another key, the real kid) → 401', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({ ...good(), sub: 'user1' })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: fakeAs.kid })
        .sign(privateKey);
      await expectRefused(forged, /signature does not verify/);
    });

    it('alg: none (no signature at all) → 401', async () => {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${part({ alg: 'none', typ: 'at+jwt' })}.${part(good())}.`;
      await expectRefused(unsigned, /algorithm this API does not accept/);
    });

    it('HS256 keyed with the AS’s public key (algorithm confusion) → 401', async () => {
      // The attacker takes the public key, published for everyone, as an HMAC secret: a
      // validator that lets the token pick the algorithm would verify it with the same bytes.
      const jwks = (await fetch(`${fakeAs.url}/jwks.json`).then((r) => r.json())) as {
        keys: JWK[];
      };
      const publicKey = await importJWK(jwks.keys[0]!, 'RS256', { extractable: true });
      const pem = await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0]);
      const confused = await new SignJWT(good())
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: fakeAs.kid })
        .sign(new TextEncoder().encode(pem));
      await expectRefused(confused, /algorithm this API does not accept/);
    });

    it('another issuer → 401', async () => {
      await expectRefused(
        await fakeAs.sign({ ...good(), iss: 'http://evil.example' }),
        /not issued by the authorization server this API trusts/,
      );
    });

    it('another audience (a token for another resource) → 401', async () => {
      await expectRefused(
        await fakeAs.sign({ ...good(), aud: 'http://localhost:1/another-api' }),
        /not meant for this API/,
      );
    });

    it('expired → 401', async () => {
      const now = Math.floor(clock.now() / 1000);
      await expectRefused(
        await fakeAs.sign({ ...good(), iat: now - 300, exp: now - 120 }),
        /expired/,
      );
    });

    it('not yet valid (nbf in the future) → 401', async () => {
      const now = Math.floor(clock.now() / 1000);
      await expectRefused(await fakeAs.sign({ ...good(), nbf: now + 600 }), /not valid yet/);
    });

    it('typ is not at+jwt (an id_token, say) → 401', async () => {
      await expectRefused(await fakeAs.sign(good(), { typ: 'JWT' }), /typ header is not at\+jwt/);
    });

    it('an unknown kid → 401, after one look at a fresh JWKS', async () => {
      const before = fakeAs.jwksFetches;
      await expectRefused(
        await fakeAs.sign(good(), { kid: 'no-such-key' }),
        /No key .* has this kid/,
      );
      await expectRefused(
        await fakeAs.sign(good(), { kid: 'nor-this-one' }),
        /No key .* has this kid/,
      );
      // Junk kids must not make the RS hammer the AS: one refetch per cooldown at most.
      expect(fakeAs.jwksFetches - before).toBeLessThanOrEqual(1);
    });

    it('a claim RFC 9068 §2.2 requires is missing (client_id) → 401', async () => {
      const { client_id: _dropped, ...claims } = good();
      await expectRefused(await fakeAs.sign(claims), /client_id/);
    });

    it('after its key is retired, a token is refused once the RS fetches the key set again', async () => {
      const token = await fakeAs.sign({ ...good(), exp: Math.floor(clock.now() / 1000) + 3600 });
      expect((await call(token)).status).toBe(200);
      fakeAs.retireKey();
      expect((await call(token)).status).toBe(200); // the RS still holds the key it fetched
      clock.advance(61_000); // past the RS's key cache age (jwt.ts: JWKS_MAX_AGE_MS)
      await expectRefused(token, /No key .* has this kid/);
    });
  },
);

describe.each(versionsFrom('v06'))('%s: when the authorization server is down', (version) => {
  const clock = manualClock();
  const call = (rs: { url: string }, token: string) =>
    request(rs.url).get('/api/me').set('Authorization', `Bearer ${token}`);

  it('the RS (JWT mode) goes on with the keys it holds, even past their age', async () => {
    const fakeAs = await startFakeAs();
    const rs = await startResourceServer(version, fakeAs.url, clock.now);
    try {
      const claims = { ...fakeAs.goodClaims(rs.url, clock.now()) };
      const token = await fakeAs.sign({ ...claims, exp: Math.floor(clock.now() / 1000) + 3600 });
      expect((await call(rs, token)).status).toBe(200); // the RS fetches the key set
      await fakeAs.close();
      clock.advance(61_000); // past the key cache's age (jwt.ts: JWKS_MAX_AGE_MS): it tries again
      expect((await call(rs, token)).status).toBe(200);
      clock.advance(61_000);
      expect((await call(rs, token)).status).toBe(200);
    } finally {
      await rs.close();
    }
  });

  it('an RS that never got the keys answers 503 temporarily_unavailable, not 401', async () => {
    const fakeAs = await startFakeAs();
    const token = await fakeAs.sign(fakeAs.goodClaims('http://localhost:1', clock.now()));
    await fakeAs.close();
    const rs = await startResourceServer(version, fakeAs.url, clock.now);
    try {
      const response = await call(rs, token);
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('temporarily_unavailable');
      expect(response.body.error_description).toMatch(/authorization server did not answer/);
    } finally {
      await rs.close();
    }
  });

  it('an RS whose introspection request the AS refuses answers 503 and says why, not 401', async () => {
    const fakeAs = await startFakeAs(); // it has no /introspect: 404
    const rs = await startResourceServer(version, fakeAs.url, clock.now, 'introspection');
    try {
      const response = await call(rs, await fakeAs.sign(fakeAs.goodClaims(rs.url, clock.now())));
      expect(response.status).toBe(503);
      expect(response.body.error).toBe('temporarily_unavailable');
      expect(response.body.error_description).toMatch(/introspection endpoint answered 404/);
    } finally {
      await rs.close();
      await fakeAs.close();
    }
  });
});

/** A resource server of `version` in this process, trusting the AS at `asUrl`. */
function startResourceServer(
  version: string,
  asUrl: string,
  now: () => number,
  validation: 'jwt' | 'introspection' = 'jwt',
) {
  return startApp(version, 'resource-server', 'createResourceServer', { asUrl, now, validation });
}

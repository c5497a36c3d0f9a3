// Token introspection (RFC 7662, v06+): a resource server asks the AS whether an access token
// is still good. Only a registered resource server may ask (lab: with its own Basic
// credentials); a live token is described by the claims of its JWT, and anything else
// (garbage, expired, revoked, a refresh token) is exactly {"active": false}.

import { decodeJwt } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import { EXPIRED_MS, manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import {
  basic,
  BATCH,
  DEMO,
  OTHER,
  postAsClient,
  postRefresh,
  tokensFor,
} from '../scripts/lib/token.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

const RS = { id: 'resource-server', secret: 'resource-secret' };
const ALL = 'profile notes:read notes:write';

describe.each(versionsFrom('v06'))('%s: token introspection (RFC 7662)', (version) => {
  let lab: Lab;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  /** POST /introspect as the resource server (or with `auth`, null for none). */
  const introspect = (
    form: Record<string, string> | string,
    auth: string | null = basic(RS.id, RS.secret),
  ) => postAsClient(lab, '/introspect', form, auth);

  /** The introspection answer for `token`, which must be a 200. */
  async function answerFor(token: string) {
    const response = await introspect({ token });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    return response.body as Record<string, unknown>;
  }

  async function expectInactive(token: string) {
    expect(await answerFor(token)).toStrictEqual({ active: false });
  }

  describe('who may ask (RFC 7662 §2.1, §2.3)', () => {
    it('no credentials → 401 invalid_client', async () => {
      const { access_token: token } = await tokensFor(lab);
      const response = await introspect({ token }, null);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_client');
      expect(response.body.active).toBeUndefined();
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('the resource server with a wrong secret → 401', async () => {
      const { access_token: token } = await tokensFor(lab);
      const response = await introspect({ token }, basic(RS.id, 'wrong-secret'));
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_client');
    });

    it('a client with its own valid credentials → 401: only a resource server may introspect', async () => {
      const { access_token: token } = await tokensFor(lab);
      for (const client of [DEMO, OTHER, BATCH]) {
        const response = await introspect({ token }, basic(client.id, client.secret));
        expect(response.status).toBe(401);
        expect(response.body.error).toBe('invalid_client');
        expect(response.body.active).toBeUndefined();
      }
    });

    it('the resource server’s credentials in the body (client_secret_post) work too', async () => {
      const { access_token: token } = await tokensFor(lab);
      const response = await introspect(
        { token, client_id: RS.id, client_secret: RS.secret },
        null,
      );
      expect(response.status).toBe(200);
      expect(response.body.active).toBe(true);
    });
  });

  describe('a live access token (RFC 7662 §2.2)', () => {
    it('→ active, with the claims of its JWT', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      const response = await introspect({ token: tokens.access_token });
      expect(response.status).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.pragma).toBe('no-cache');
      const claims = decodeJwt(tokens.access_token);
      expect(response.body).toStrictEqual({
        active: true,
        scope: ALL,
        client_id: 'demo-client',
        username: 'user0',
        token_type: 'Bearer',
        exp: claims.exp,
        iat: claims.iat,
        sub: claims.sub,
        aud: claims.aud,
        iss: claims.iss,
        jti: claims.jti,
      });
      expect(response.body).toMatchObject({
        sub: 'user0',
        aud: lab.urls.rs,
        iss: lab.urls.as,
        scope: claims.scope,
      });
    });

    it('the token_type_hint does not matter', async () => {
      const { access_token: token } = await tokensFor(lab);
      for (const hint of ['access_token', 'refresh_token']) {
        const response = await introspect({ token, token_type_hint: hint });
        expect(response.body.active).toBe(true);
      }
    });

    it('another user’s token describes that user', async () => {
      const { access_token: token } = await tokensFor(lab, { username: 'user1' });
      expect(await answerFor(token)).toMatchObject({
        active: true,
        sub: 'user1',
        username: 'user1',
      });
    });
  });

  describe('anything else is exactly {"active": false}', () => {
    it('garbage', async () => {
      await expectInactive('garbage');
      await expectInactive('<script>alert(1)</script>');
    });

    it('a JWT-shaped string with nothing in it', async () => {
      await expectInactive('e30.e30.');
      await expectInactive('a.b.c');
      await expectInactive('..');
    });

    it('an expired token', async () => {
      const { access_token: token } = await tokensFor(lab);
      expect((await answerFor(token)).active).toBe(true);
      clock.advance(EXPIRED_MS);
      await expectInactive(token);
    });

    it('a revoked token (POST /revoke as demo-client)', async () => {
      const { access_token: token } = await tokensFor(lab);
      expect((await answerFor(token)).active).toBe(true);
      expect((await postAsClient(lab, '/revoke', { token })).status).toBe(200);
      await expectInactive(token);
    });

    it('the access tokens of a revoked refresh token', async () => {
      const { access_token: token, refresh_token: refreshToken } = await tokensFor(lab);
      expect((await postAsClient(lab, '/revoke', { token: refreshToken! })).status).toBe(200);
      await expectInactive(token);
    });

    it('a refresh token (only access tokens are introspected here)', async () => {
      const { refresh_token: refreshToken } = await tokensFor(lab);
      await expectInactive(refreshToken!);
      // Still a good refresh token: asking about it changed nothing.
      expect((await postRefresh(lab, refreshToken!)).status).toBe(200);
    });

    it('the tokens of a family revoked by refresh-token reuse', async () => {
      const first = await tokensFor(lab);
      const second = (await postRefresh(lab, first.refresh_token!)).body;
      expect((await answerFor(second.access_token)).active).toBe(true);
      // The rotated refresh token again: reuse, and the whole family is revoked.
      const reuse = await postRefresh(lab, first.refresh_token!);
      expect(reuse.body.error).toBe('invalid_grant');
      await expectInactive(first.access_token);
      await expectInactive(second.access_token);
    });

    it('a token signed by someone else with the AS’s kid and claims', async () => {
      const { access_token: token } = await tokensFor(lab);
      const [header, payload] = token.split('.');
      const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
      await expectInactive(forged);
    });
  });

  describe('bad requests', () => {
    it('no token parameter → 400 invalid_request', async () => {
      const response = await introspect({ token_type_hint: 'access_token' });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it('an empty token parameter → 400 invalid_request (empty = absent)', async () => {
      const response = await introspect({ token: '' });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('a repeated token parameter → 400 invalid_request', async () => {
      const response = await introspect('token=a&token=b');
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
    });

    it('a JSON body → 400 invalid_request', async () => {
      const { access_token: token } = await tokensFor(lab);
      const response = await request(lab.urls.as)
        .post('/introspect')
        .set('Authorization', basic(RS.id, RS.secret))
        .send({ token });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(response.body.active).toBeUndefined();
    });
  });

  describe('the resource server in introspection mode', () => {
    it('refuses a revoked token at once: 401 invalid_token', async () => {
      await setValidation(lab, 'introspection');
      try {
        const { access_token: token } = await tokensFor(lab);
        expect((await apiGet(lab, '/api/me', token)).status).toBe(200);
        expect((await postAsClient(lab, '/revoke', { token })).status).toBe(200);
        const refused = await apiGet(lab, '/api/me', token);
        expect(refused.status).toBe(401);
        expect(refused.body.error).toBe('invalid_token');
        expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
      } finally {
        await setValidation(lab, 'jwt');
      }
    });
  });
});

// POST /revoke (RFC 7009): a client gives up a token; revoking a refresh token ends the grant.

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { basic, DEMO, OTHER, postAsClient, postRefresh, tokensFor } from '../scripts/lib/token.ts';

describe.each(versionsFrom('v05'))('%s: token revocation', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
    // From v06 the API checks JWTs by itself and would accept a revoked token until it
    // expires (jwt-access-tokens.test.ts shows it); here revocation must reach the API.
    await setValidation(lab, 'introspection');
  });
  afterAll(() => lab.close());

  /** Tokens for user0, with a refresh token. */
  async function tokens() {
    const { access_token, refresh_token } = await tokensFor(lab);
    return { access_token, refresh_token: refresh_token! };
  }

  const revoke = (form: Record<string, string> | string, auth?: string | null) =>
    postAsClient(lab, '/revoke', form, auth);

  it('revoking an access token → 200, and the API refuses it', async () => {
    const { access_token, refresh_token } = await tokens();
    const response = await revoke({ token: access_token, token_type_hint: 'access_token' });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect((await apiGet(lab, '/api/me', access_token)).status).toBe(401);
    // Only that token: the refresh token still works.
    expect((await postRefresh(lab, refresh_token)).status).toBe(200);
  });

  it('revoking a refresh token also kills its access tokens (RFC 7009 §2.1)', async () => {
    const { access_token, refresh_token } = await tokens();
    expect((await revoke({ token: refresh_token })).status).toBe(200);
    expect((await postRefresh(lab, refresh_token)).body.error).toBe('invalid_grant');
    expect((await apiGet(lab, '/api/me', access_token)).status).toBe(401);
  });

  it('honours the hint but does not trust it: a wrong hint still revokes', async () => {
    const { access_token, refresh_token } = await tokens();
    expect((await revoke({ token: refresh_token, token_type_hint: 'access_token' })).status).toBe(
      200,
    );
    expect((await postRefresh(lab, refresh_token)).body.error).toBe('invalid_grant');
    expect((await apiGet(lab, '/api/me', access_token)).status).toBe(401);
  });

  it('an unknown or garbage token → 200 all the same (RFC 7009 §2.2)', async () => {
    expect((await revoke({ token: 'no-such-token' })).status).toBe(200);
    expect((await revoke({ token: '<script>' })).status).toBe(200);
  });

  it('another client’s token → 400 invalid_request, and it is not revoked', async () => {
    const { access_token } = await tokens();
    const response = await revoke({ token: access_token }, basic(OTHER.id, OTHER.secret));
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect((await apiGet(lab, '/api/me', access_token)).status).toBe(200);
  });

  it('no client authentication → 401 invalid_client, nothing revoked', async () => {
    const { access_token } = await tokens();
    const response = await revoke({ token: access_token }, null);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(response.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await apiGet(lab, '/api/me', access_token)).status).toBe(200);
  });

  it('wrong secret → 401 invalid_client', async () => {
    const response = await revoke({ token: 'x' }, basic(DEMO.id, 'wrong'));
    expect(response.status).toBe(401);
  });

  it('no token → 400 invalid_request', async () => {
    const response = await revoke({ token_type_hint: 'access_token' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  it('an unknown hint → 400 unsupported_token_type', async () => {
    const response = await revoke({ token: 'x', token_type_hint: 'id_token' });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('unsupported_token_type');
  });

  it('a repeated token or a JSON body → 400 invalid_request', async () => {
    expect((await revoke('token=a&token=b')).body.error).toBe('invalid_request');
    const json = await request(lab.urls.as)
      .post('/revoke')
      .set('Authorization', basic(DEMO.id, DEMO.secret))
      .send({ token: 'x' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
  });
});

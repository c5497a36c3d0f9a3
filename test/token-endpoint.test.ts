// POST /token with the authorization_code grant: client authentication, RFC 6749 §5.1
// responses and every §5.2 error, and single-use codes (RFC 6749 §4.1.2, §10.5).

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { has } from './helpers/versions.ts';
import { storedAccessToken } from '../scripts/lib/state.ts';
import { basic, BATCH, codeForm, DEMO, freshCode, OTHER, postToken } from '../scripts/lib/token.ts';

describe.each(versionsFrom('v03'))('%s: the token endpoint', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  const expectError = (
    response: request.Response,
    status: number,
    error: string,
    description?: RegExp,
  ) => {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.error).toBe(error);
    if (description) expect(response.body.error_description).toMatch(description);
  };

  describe('a good request', () => {
    it('gets a Bearer access token as uncacheable JSON (client_secret_basic)', async () => {
      const response = await postToken(lab, codeForm(lab, await freshCode(lab)));
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.pragma).toBe('no-cache');
      expect(response.body.token_type).toBe('Bearer');
      // Until v05 an opaque random string; from v06 a signed JWT (header.payload.signature).
      const format = has(version, 'v06') ? /^[\w-]+\.[\w-]+\.[\w-]+$/ : /^[A-Za-z0-9_-]{43,}$/;
      expect(response.body.access_token).toMatch(format);
      expect(response.body.expires_in).toBeGreaterThan(0);
    });

    it('works with client_secret_post too', async () => {
      const code = await freshCode(lab);
      const form = { ...codeForm(lab, code), client_id: DEMO.id, client_secret: DEMO.secret };
      const response = await postToken(lab, form, null);
      expect(response.status).toBe(200);
      expect(response.body.access_token).toBeTruthy();
    });

    it('keeps a record of the token server-side, bound to client and user', async () => {
      const response = await postToken(lab, codeForm(lab, await freshCode(lab)));
      const stored = await storedAccessToken(lab, response.body.access_token);
      expect(stored).toMatchObject({ clientId: 'demo-client', username: 'user0' });
    });

    it('accepts the client_id in the body alongside matching Basic credentials', async () => {
      const form = { ...codeForm(lab, await freshCode(lab)), client_id: DEMO.id };
      expect((await postToken(lab, form)).status).toBe(200);
    });
  });

  describe('client authentication (RFC 6749 §2.3.1)', () => {
    let form: Record<string, string>;
    beforeAll(async () => {
      // One code for all the refusals: none of them gets far enough to use it up.
      form = codeForm(lab, await freshCode(lab));
    });

    it('no credentials → 401 invalid_client with WWW-Authenticate', async () => {
      const response = await postToken(lab, form, null);
      expectError(response, 401, 'invalid_client');
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="/);
    });

    it('wrong secret over Basic → 401 invalid_client with WWW-Authenticate: Basic', async () => {
      const response = await postToken(lab, form, basic(DEMO.id, 'wrong'));
      expectError(response, 401, 'invalid_client');
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="/);
    });

    it('wrong secret in the body → 401 invalid_client', async () => {
      const body = { ...form, client_id: DEMO.id, client_secret: 'wrong' };
      expectError(await postToken(lab, body, null), 401, 'invalid_client');
    });

    it('unknown client → 401 invalid_client', async () => {
      expectError(await postToken(lab, form, basic('nobody', 'x')), 401, 'invalid_client');
    });

    it('client_secret without client_id → 401 invalid_client', async () => {
      const body = { ...form, client_secret: DEMO.secret };
      expectError(await postToken(lab, body, null), 401, 'invalid_client');
    });

    it.each([
      ['not Basic', 'Bearer abc'],
      ['not base64', 'Basic !!!'],
      ['no colon', `Basic ${Buffer.from('demo-client').toString('base64')}`],
      ['bad URL-encoding', `Basic ${Buffer.from('demo-client:%E0%A4%A').toString('base64')}`],
    ])('malformed Authorization header (%s) → 401 invalid_client', async (_name, header) => {
      expectError(await postToken(lab, form, header), 401, 'invalid_client');
    });

    it('both Basic and client_secret in the body → 400 invalid_request', async () => {
      const body = { ...form, client_id: DEMO.id, client_secret: DEMO.secret };
      expectError(await postToken(lab, body), 400, 'invalid_request', /one client authentication/);
    });

    it('a client_id in the body that differs from Basic → 400 invalid_request', async () => {
      expectError(await postToken(lab, { ...form, client_id: OTHER.id }), 400, 'invalid_request');
    });

    it('a secret with ":" and "%" works over Basic when URL-encoded', async () => {
      // other-client authenticates fine; the code is demo-client's, so the grant is refused.
      const response = await postToken(lab, form, basic(OTHER.id, OTHER.secret));
      expectError(response, 400, 'invalid_grant', /another client/);
    });
  });

  describe('malformed requests → 400 invalid_request', () => {
    let code: string;
    beforeAll(async () => {
      code = await freshCode(lab);
    });

    it.each(['grant_type', 'code', 'redirect_uri', 'code_verifier'])('missing %s', async (name) => {
      const form: Record<string, string> = codeForm(lab, code);
      delete form[name];
      expectError(await postToken(lab, form), 400, 'invalid_request', new RegExp(name));
    });

    it('an empty parameter counts as missing', async () => {
      expectError(await postToken(lab, codeForm(lab, code, { code: '' })), 400, 'invalid_request');
    });

    it('a repeated parameter', async () => {
      const body = `${new URLSearchParams(codeForm(lab, code))}&code=${code}`;
      expectError(await postToken(lab, body), 400, 'invalid_request', /more than once/);
    });

    it('a JSON body instead of a form', async () => {
      const response = await request(lab.urls.as)
        .post('/token')
        .set('Authorization', basic(DEMO.id, DEMO.secret))
        .send(codeForm(lab, code));
      expectError(response, 400, 'invalid_request', /x-www-form-urlencoded/);
    });

    it('a body too large to read → a JSON error, no stack trace', async () => {
      const response = await postToken(lab, codeForm(lab, code, { code: 'x'.repeat(50_000) }));
      expect(response.status).toBe(413);
      expect(response.body.error).toBe('invalid_request');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.pragma).toBe('no-cache');
      expect(response.text).not.toMatch(/at \w+ \(|node_modules/);
    });

    it('a huge but readable value is just an unknown code', async () => {
      const response = await postToken(lab, codeForm(lab, 'x'.repeat(10_000)));
      expectError(response, 400, 'invalid_grant');
    });
  });

  describe('grant types', () => {
    // constructor and __proto__ name what every JavaScript object has: the lookup must not
    // find a grant handler there.
    // From v08 the AS offers client_credentials, to agents (token-exchange.test.ts).
    const unsupported = ['password', 'foo', 'client_credentials', 'constructor', '__proto__'];
    it.each([
      ...unsupported.filter((g) => !has(version, 'v08') || g !== 'client_credentials'),
      'toString',
    ])('grant_type=%s → 400 unsupported_grant_type', async (grantType) => {
      const form = { grant_type: grantType, username: 'user0', password: 'password0' };
      expectError(await postToken(lab, form), 400, 'unsupported_grant_type');
    });
  });

  it('a client not registered for the grant → 400 unauthorized_client', async () => {
    const code = await freshCode(lab);
    const response = await postToken(lab, codeForm(lab, code), basic(BATCH.id, BATCH.secret));
    expectError(response, 400, 'unauthorized_client', /batch-job/);
    // ...and the code is not used up by the refusal.
    expect((await postToken(lab, codeForm(lab, code))).status).toBe(200);
  });

  describe('the code (RFC 6749 §4.1.3) → 400 invalid_grant', () => {
    it('unknown code', async () => {
      expectError(await postToken(lab, codeForm(lab, 'no-such-code')), 400, 'invalid_grant');
    });

    it('a code 61 seconds old', async () => {
      const code = await freshCode(lab);
      clock.advance(61_000);
      expectError(await postToken(lab, codeForm(lab, code)), 400, 'invalid_grant', /expired/);
    });

    it('a code issued to another client', async () => {
      const code = await freshCode(lab);
      const response = await postToken(lab, codeForm(lab, code), basic(OTHER.id, OTHER.secret));
      expectError(response, 400, 'invalid_grant', /another client/);
      // ...and the rightful client can still redeem it.
      expect((await postToken(lab, codeForm(lab, code))).status).toBe(200);
    });

    it('a redirect_uri different from the authorization request', async () => {
      const code = await freshCode(lab);
      const form = codeForm(lab, code, { redirect_uri: `${lab.urls.client}/callback/` });
      expectError(await postToken(lab, form), 400, 'invalid_grant', /redirect_uri/);
    });

    it('a code used twice: the second is refused and the first token is revoked', async () => {
      const code = await freshCode(lab);
      const first = await postToken(lab, codeForm(lab, code));
      expect(first.status).toBe(200);
      const token = first.body.access_token as string;
      expect(await storedAccessToken(lab, token)).toBeDefined();

      const second = await postToken(lab, codeForm(lab, code));
      expectError(second, 400, 'invalid_grant', /already used/);
      expect(await storedAccessToken(lab, token)).toBeUndefined();
    });

    it('a failed attempt uses the code up', async () => {
      const code = await freshCode(lab);
      const wrong = codeForm(lab, code, { redirect_uri: 'http://evil.example/cb' });
      expectError(await postToken(lab, wrong), 400, 'invalid_grant');
      expectError(await postToken(lab, codeForm(lab, code)), 400, 'invalid_grant', /already used/);
    });
  });
});

// The protected API (RFC 6750): Bearer tokens in the Authorization header, scope checks, and
// the exact error vocabulary with its WWW-Authenticate challenges (RFC 6750 §3, §3.1).

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, apiPost, apiUrl, setValidation } from '../scripts/lib/api.ts';
import {
  authorizeUrl,
  locationParams,
  loggedInBrowser,
  runFlow,
  submitClientForm,
} from '../scripts/lib/flow.ts';
import { manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { has } from './helpers/versions.ts';
import { codeForm, postToken, tokensFor } from '../scripts/lib/token.ts';

describe.each(versionsFrom('v04'))('%s: the protected API', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  let full: string; // profile notes:read notes:write
  let readOnly: string; // profile notes:read
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
    full = await tokenFor('user0', 'profile notes:read notes:write');
    readOnly = await tokenFor('user1', 'profile notes:read');
  });
  afterAll(() => lab.close());

  async function tokenFor(username: string, scope: string) {
    const tokens = await tokensFor(lab, { username, scope });
    expect(tokens.scope).toBe(scope);
    return tokens.access_token;
  }

  /** For requests without a well-formed Bearer header: none, another scheme, a malformed one. */
  const api = () => request(apiUrl(lab));

  /** Parse `Bearer realm="x", error="y"` into { realm: 'x', error: 'y' }. */
  const challenge = (response: request.Response) => {
    const header = response.headers['www-authenticate'] as string;
    expect(header).toMatch(/^Bearer /);
    return Object.fromEntries(
      [...header.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
    );
  };

  describe('with a good token', () => {
    it('GET /api/me returns the user (needs profile)', async () => {
      const response = await apiGet(lab, '/api/me', full);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ username: 'user0', name: 'Ada Lovelace' });
    });

    it('GET /api/notes lists the user’s notes (needs notes:read)', async () => {
      const response = await apiGet(lab, '/api/notes', readOnly);
      expect(response.status).toBe(200);
      expect(response.body.notes[0].text).toContain('bombe');
    });

    it('POST /api/notes adds a note (needs notes:write), form or JSON', async () => {
      const form = await apiPost(lab, '/api/notes', full)
        .type('form')
        .send('text=Hello+from+a+test');
      expect(form.status).toBe(201);
      expect(form.body.note).toMatchObject({ text: 'Hello from a test', via: 'demo-client' });
      const json = await apiPost(lab, '/api/notes', full).send({ text: 'JSON too' });
      expect(json.status).toBe(201);
      const list = await apiGet(lab, '/api/notes', full);
      expect(list.body.notes.map((note: { text: string }) => note.text)).toEqual(
        expect.arrayContaining(['Hello from a test', 'JSON too']),
      );
    });

    it('accepts the scheme name in any case (RFC 9110 §11.1)', async () => {
      const response = await api().get('/api/me').set('Authorization', `bEaReR ${full}`);
      expect(response.status).toBe(200);
    });

    it('refuses an empty or oversized note with 400 invalid_request', async () => {
      for (const text of ['', '   ', 'x'.repeat(281)]) {
        const response = await apiPost(lab, '/api/notes', full).type('form').send({ text });
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('invalid_request');
      }
    });
  });

  describe('RFC 6750 errors', () => {
    it('no token → 401 with a bare Bearer challenge, no error code', async () => {
      const response = await api().get('/api/me');
      expect(response.status).toBe(401);
      const { realm, error, ...rest } = challenge(response);
      expect(realm).toBe('oauth-lab');
      expect(error).toBeUndefined();
      // From v06 the challenge also points to the API's metadata (RFC 9728 §5.1).
      expect(Object.keys(rest)).toEqual(has(version, 'v06') ? ['resource_metadata'] : []);
      expect(response.body.error).toBeUndefined();
    });

    it('another scheme (Basic) → 401 with no error code', async () => {
      const response = await api()
        .get('/api/me')
        .set('Authorization', 'Basic dXNlcjA6cGFzc3dvcmQw');
      expect(response.status).toBe(401);
      expect(challenge(response).error).toBeUndefined();
    });

    it.each([
      ['Bearer alone', 'Bearer'],
      ['Bearer and spaces', 'Bearer   '],
      ['two tokens', 'Bearer abc def'],
      ['a character outside b64token', 'Bearer abc"def'],
    ])('malformed header (%s) → 400 invalid_request', async (_name, header) => {
      const response = await api().get('/api/me').set('Authorization', header);
      expect(response.status).toBe(400);
      expect(challenge(response).error).toBe('invalid_request');
      expect(response.body.error).toBe('invalid_request');
    });

    it('token in the query string → 400 invalid_request (not accepted, RFC 6750 §2.3)', async () => {
      const response = await api().get(`/api/me?access_token=${full}`);
      expect(response.status).toBe(400);
      expect(challenge(response).error).toBe('invalid_request');
    });

    it('token in the header and the body → 400 invalid_request', async () => {
      const response = await apiPost(lab, '/api/notes', full)
        .type('form')
        .send({ access_token: full, text: 'x' });
      expect(response.status).toBe(400);
      expect(challenge(response).error).toBe('invalid_request');
    });

    it('a forged (unknown) token → 401 invalid_token', async () => {
      const response = await apiGet(lab, '/api/me', 'forged-token-123');
      expect(response.status).toBe(401);
      expect(challenge(response)).toMatchObject({ realm: 'oauth-lab', error: 'invalid_token' });
      expect(response.body.error).toBe('invalid_token');
    });

    it('a token without the needed scope → 403 insufficient_scope naming the scope', async () => {
      const response = await apiPost(lab, '/api/notes', readOnly)
        .type('form')
        .send({ text: 'should not be written' });
      expect(response.status).toBe(403);
      expect(challenge(response)).toMatchObject({
        error: 'insufficient_scope',
        scope: 'notes:write',
      });
      const list = await apiGet(lab, '/api/notes', readOnly);
      expect(JSON.stringify(list.body)).not.toContain('should not be written');
    });

    it('a revoked token (its code was replayed) → 401 invalid_token', async () => {
      const browser = await loggedInBrowser(lab);
      const page = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
      const code = locationParams(page).get('code')!;
      const token = (await postToken(lab, codeForm(lab, code))).body.access_token;
      expect((await apiGet(lab, '/api/me', token)).status).toBe(200);
      await postToken(lab, codeForm(lab, code)); // the replay revokes the token
      // From v06, only an API that asks the AS learns of it (jwt-access-tokens.test.ts).
      await setValidation(lab, 'introspection');
      const response = await apiGet(lab, '/api/me', token);
      await setValidation(lab, 'jwt');
      expect(response.status).toBe(401);
      expect(challenge(response).error).toBe('invalid_token');
    });

    it('an expired token → 401 invalid_token', async () => {
      const token = await tokenFor('user0', 'profile');
      clock.advance(24 * 60 * 60_000);
      const response = await apiGet(lab, '/api/me', token);
      expect(response.status).toBe(401);
      expect(challenge(response).error).toBe('invalid_token');
    });
  });
});

describe.each(versionsFrom('v04'))('%s: the client uses the API, and logs out', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('shows the notes on its home page and adds one through the API', async () => {
    const { browser } = await runFlow(lab);
    const home = await browser.get(`${lab.urls.client}/`);
    expect(home.text).toContain('analytical engine');
    const added = await submitClientForm(lab, browser, '/notes', { text: 'Written <b>by</b> me' });
    expect(added.status).toBe(303);
    const after = await browser.get(`${lab.urls.client}/`);
    expect(after.text).toContain('Written &lt;b&gt;by&lt;/b&gt; me');
    expect(after.text).toContain('Note added');
  });

  it('shows the API’s 403 when the user did not grant notes:write', async () => {
    const { browser } = await runFlow(lab, { username: 'user1', grant: ['profile', 'notes:read'] });
    await submitClientForm(lab, browser, '/notes', { text: 'nope' });
    const home = await browser.get(`${lab.urls.client}/`);
    expect(home.text).toContain('POST /api/notes: 403 insufficient_scope');
    expect(home.text).not.toContain('Note added');
  });

  it('logout ends the client session, then the AS session through the AS’s own form', async () => {
    const { browser } = await runFlow(lab);
    const out = await submitClientForm(lab, browser, '/logout');
    expect(out.status).toBe(303);
    expect(out.location).toBe(`${lab.urls.as}/logout?client_id=demo-client`);
    expect((await browser.get(`${lab.urls.client}/`)).text).toContain('Log in');

    const confirm = await browser.follow(out);
    expect(confirm.text).toContain('still logged in');
    const token = /name="_csrf" value="([^"]*)"/.exec(confirm.text)![1]!;
    const done = await browser.post(`${lab.urls.as}/logout`, {
      _csrf: token,
      client_id: 'demo-client',
    });
    expect(done.status).toBe(200);
    expect(done.text).toContain(`href="${lab.urls.client}"`);

    // A new flow needs the password again.
    const again = await browser.get(`${lab.urls.client}/login`);
    expect((await browser.follow(again)).location).toBe('/login');
  });

  it('AS logout without the form’s token keeps the session', async () => {
    const { browser } = await runFlow(lab);
    const forged = await browser.post(`${lab.urls.as}/logout`, {});
    expect(forged.status).toBe(403);
    const again = await browser.follow(await browser.get(`${lab.urls.client}/login`));
    expect(again.location).not.toBe('/login');
  });
});

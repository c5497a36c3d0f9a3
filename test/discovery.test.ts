// Discovery (v06+): the AS describes itself (RFC 8414), the API describes itself and names
// its AS (RFC 9728), every 401 of the API points to that description (RFC 9728 §5.1), and the
// client, told nothing but the API's URL, finds its way from there to the AS's authorization
// endpoint, refusing any document that describes some other party than the one it asked about
// (RFC 9728 §3.3, RFC 8414 §3.3). From v07 the client reads the AS's OpenID Connect
// configuration instead (OpenID Connect Discovery §4), which the AS serves beside its RFC 8414
// metadata: the same document, with the scopes of OpenID Connect.

import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet } from '../scripts/lib/api.ts';
import { Browser } from '../scripts/lib/browser.ts';
import {
  EXPIRED_MS,
  manualClock,
  startApp,
  startVersion,
  versionsFrom,
} from '../scripts/lib/lab.ts';
import { clientState } from '../scripts/lib/state.ts';
import { tokensFor } from '../scripts/lib/token.ts';
import { startJsonServer } from './fixtures/json-server.ts';
import { has } from './helpers/versions.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

const AS_METADATA = '/.well-known/oauth-authorization-server';
const RS_METADATA = '/.well-known/oauth-protected-resource';
const OIDC_METADATA = '/.well-known/openid-configuration';
const SCOPES = ['profile', 'notes:read', 'notes:write'];
/** v07+: the AS also offers OpenID Connect's scopes; the API's stay the same. */
const OIDC_SCOPES = ['openid', 'email'];

/**
 * Where a version's client looks for the metadata of an AS whose issuer has `issuerPath`:
 * until v06 RFC 8414 §3.1 (the well-known path before the issuer's path), from v07 OpenID
 * Connect Discovery §4.1 (appended to the issuer).
 */
function clientReadsMetadataAt(version: string, issuerPath = '') {
  return has(version, 'v07') ? `${issuerPath}${OIDC_METADATA}` : `${AS_METADATA}${issuerPath}`;
}

describe.each(versionsFrom('v06'))('%s: discovery', (version) => {
  let lab: Lab;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  describe('authorization server metadata (RFC 8414 §2, §3)', () => {
    it('is JSON at /.well-known/oauth-authorization-server, its issuer exactly the AS URL', async () => {
      const response = await request(lab.urls.as).get(AS_METADATA);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body.issuer).toBe(lab.urls.as);
      expect(response.body.issuer).not.toMatch(/\/$/);
    });

    it('names every endpoint under the issuer, and what the AS supports', async () => {
      const metadata = (await request(lab.urls.as).get(AS_METADATA)).body;
      const issuer = lab.urls.as;
      expect(metadata).toMatchObject({
        response_types_supported: ['code'],
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        revocation_endpoint: `${issuer}/revoke`,
        introspection_endpoint: `${issuer}/introspect`,
        jwks_uri: `${issuer}/jwks.json`,
        code_challenge_methods_supported: ['S256'],
      });
      expect(metadata.grant_types_supported).toEqual(
        expect.arrayContaining(['authorization_code', 'refresh_token']),
      );
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(
        expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
      );
      const scopes = has(version, 'v07') ? [...SCOPES, ...OIDC_SCOPES] : SCOPES;
      expect([...metadata.scopes_supported].sort()).toEqual([...scopes].sort());
    });

    it('its endpoints are the AS’s real ones: the jwks_uri serves keys, /token answers', async () => {
      const metadata = (await request(lab.urls.as).get(AS_METADATA)).body;
      const jwks = (await fetch(metadata.jwks_uri).then((r) => r.json())) as { keys: unknown[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      // Not a 404: the token endpoint is there, and refuses an unauthenticated request.
      const token = await fetch(metadata.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code',
      });
      expect(token.status).toBe(401);
    });
  });

  describe('protected resource metadata (RFC 9728 §2, §3)', () => {
    it('names the RS exactly, its AS, how it takes a token and its scopes', async () => {
      const response = await request(lab.urls.rs).get(RS_METADATA);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({
        resource: lab.urls.rs,
        authorization_servers: [lab.urls.as],
        bearer_methods_supported: ['header'],
      });
      expect([...response.body.scopes_supported].sort()).toEqual([...SCOPES].sort());
    });
  });

  describe('every 401 of the API points to its metadata (RFC 9728 §5.1)', () => {
    const expected = () => `resource_metadata="${lab.urls.rs}${RS_METADATA}"`;

    function expectChallenge(response: request.Response) {
      expect(response.status).toBe(401);
      const challenge = response.headers['www-authenticate'] as string;
      expect(challenge).toMatch(/^Bearer /);
      expect(challenge).toContain(expected());
    }

    it('no token', async () => {
      expectChallenge(await request(lab.urls.rs).get('/api/me'));
      expectChallenge(await request(lab.urls.rs).get('/api/notes'));
    });

    it('another scheme (Basic)', async () => {
      expectChallenge(
        await request(lab.urls.rs).get('/api/me').set('Authorization', 'Basic dXNlcjA6eA=='),
      );
    });

    it('a garbage token', async () => {
      const response = await apiGet(lab, '/api/me', 'garbage');
      expectChallenge(response);
      expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('an expired token', async () => {
      const { access_token: token } = await tokensFor(lab);
      clock.advance(EXPIRED_MS);
      expectChallenge(await apiGet(lab, '/api/me', token));
    });
  });

  describe('the client finds the AS from the API’s URL alone', () => {
    it('GET /login: three discovery hops, each answered, then the authorization request', async () => {
      const browser = new Browser();
      const login = await browser.get(`${lab.urls.client}/login`);
      expect(login.status).toBe(302);

      const metadata = (await request(lab.urls.as).get(AS_METADATA)).body;
      const location = new URL(login.location!);
      expect(`${location.origin}${location.pathname}`).toBe(metadata.authorization_endpoint);
      expect(location.searchParams.get('resource')).toBe(lab.urls.rs);

      const hops = (await clientState(lab, browser)).yourSession.transcript ?? [];
      const titles = hops.map((hop) => hop.title);
      const at = (prefix: string) => titles.findIndex((title) => title.startsWith(prefix));
      const first = at('Discovery 1');
      const second = at('Discovery 2');
      const third = at('Discovery 3');
      const authorization = at('Authorization request');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(second).toBeGreaterThan(first);
      expect(third).toBeGreaterThan(second);
      expect(authorization).toBeGreaterThan(third);

      // Each request is followed by its answer, on the back channel, from the party asked.
      expect(hops[first]).toMatchObject({
        channel: 'back',
        line: `GET ${lab.urls.rs}/api/me`,
      });
      expect(hops[first + 1]).toMatchObject({
        channel: 'back',
        path: 'Resource Server → Client',
        line: expect.stringMatching(/^401/),
      });
      expect(String(hops[first + 1]!.params?.['WWW-Authenticate'])).toContain(
        `resource_metadata="${lab.urls.rs}${RS_METADATA}"`,
      );
      expect(hops[second]).toMatchObject({
        channel: 'back',
        line: `GET ${lab.urls.rs}${RS_METADATA}`,
      });
      expect(hops[second + 1]).toMatchObject({
        path: 'Resource Server → Client',
        line: expect.stringMatching(/^200/),
        params: { resource: lab.urls.rs, authorization_servers: [lab.urls.as] },
      });
      expect(hops[third]).toMatchObject({
        channel: 'back',
        line: `GET ${lab.urls.as}${clientReadsMetadataAt(version)}`,
      });
      expect(hops[third + 1]).toMatchObject({
        path: 'Authorization Server → Client',
        line: expect.stringMatching(/^200/),
        params: { issuer: lab.urls.as, authorization_endpoint: metadata.authorization_endpoint },
      });
      expect(authorization).toBe(third + 2);
      expect(hops[authorization]).toMatchObject({
        channel: 'front',
        params: {
          resource: lab.urls.rs,
          response_type: 'code',
          client_id: 'demo-client',
          code_challenge_method: 'S256',
        },
      });
    });
  });
});

describe.each(versionsFrom('v06'))(
  '%s: the client refuses metadata that describes another party',
  (version) => {
    let fakeRs: FakeServer;
    let fakeAs: FakeServer;
    let client: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      fakeRs = await startFakeServer();
      fakeAs = await startFakeServer();
      client = await startApp(version, 'client', 'createClient', { rsUrl: fakeRs.url });
    });
    afterAll(async () => {
      await client.close();
      await fakeRs.close();
      await fakeAs.close();
    });
    afterEach(() => {
      fakeRs.seen.length = 0;
      fakeAs.seen.length = 0;
    });

    /** The fake RS: a 401 that points to its metadata, and `metadata` there. */
    function rsServes(metadata: Record<string, unknown>) {
      fakeRs.routes = {
        '/api/me': {
          status: 401,
          headers: {
            'www-authenticate': `Bearer realm="fake", resource_metadata="${fakeRs.url}${RS_METADATA}"`,
          },
          body: { error_description: 'no token' },
        },
        [RS_METADATA]: { status: 200, body: metadata },
      };
    }

    /**
     * The fake AS: metadata naming `issuer` where this version's client looks for it, with
     * endpoints under its own URL (v07+: a userinfo_endpoint too, which that client needs).
     */
    function asServes(issuer: string, where = clientReadsMetadataAt(version)) {
      fakeAs.routes = {
        [where]: {
          status: 200,
          body: {
            issuer,
            authorization_endpoint: `${fakeAs.url}/authorize`,
            token_endpoint: `${fakeAs.url}/token`,
            revocation_endpoint: `${fakeAs.url}/revoke`,
            jwks_uri: `${fakeAs.url}/jwks.json`,
            response_types_supported: ['code'],
            ...(has(version, 'v07') ? { userinfo_endpoint: `${fakeAs.url}/userinfo` } : {}),
          },
        },
      };
    }

    const goodRsMetadata = () => ({
      resource: fakeRs.url,
      authorization_servers: [fakeAs.url],
      bearer_methods_supported: ['header'],
      scopes_supported: SCOPES,
    });

    async function expectRefused() {
      const browser = new Browser();
      const page = await browser.get(`${client.url}/login`);
      expect(page.status).toBe(502);
      expect(page.location).toBeUndefined();
      expect(page.text).toContain('Discovery failed');
      // Nobody was sent to the fake AS, and it was never asked for an authorization.
      expect(fakeAs.seen.filter((url) => url.startsWith('/authorize'))).toEqual([]);
      return page;
    }

    it('the control: metadata that checks out → redirected to the AS it names', async () => {
      rsServes(goodRsMetadata());
      asServes(fakeAs.url);
      const page = await new Browser().get(`${client.url}/login`);
      expect(page.status).toBe(302);
      expect(page.location).toMatch(new RegExp(`^${fakeAs.url}/authorize\\?`));
      expect(new URL(page.location!).searchParams.get('resource')).toBe(fakeRs.url);
    });

    it('RS metadata whose resource is another API → 502 Discovery failed (RFC 9728 §3.3)', async () => {
      rsServes({ ...goodRsMetadata(), resource: 'http://localhost:1/another-api' });
      asServes(fakeAs.url);
      await expectRefused();
      expect(fakeRs.seen).toEqual(['/api/me', RS_METADATA]);
      // The AS it names was not even asked for its metadata.
      expect(fakeAs.seen).toEqual([]);
    });

    it('RS metadata whose resource differs by a trailing slash → refused too (exact match)', async () => {
      rsServes({ ...goodRsMetadata(), resource: `${fakeRs.url}/` });
      asServes(fakeAs.url);
      await expectRefused();
      expect(fakeAs.seen).toEqual([]);
    });

    it('AS metadata whose issuer is not the URL the client built → 502 (RFC 8414 §3.3)', async () => {
      rsServes(goodRsMetadata());
      asServes('http://evil.example');
      const page = await expectRefused();
      expect(fakeAs.seen).toEqual([clientReadsMetadataAt(version)]);
      expect(page.text).not.toContain(`${fakeAs.url}/authorize`);
    });

    it('AS metadata whose issuer has a trailing slash → refused too', async () => {
      rsServes(goodRsMetadata());
      asServes(`${fakeAs.url}/`);
      await expectRefused();
    });

    // RFC 8414 §3.1 puts the well-known path between the host and the path of an issuer that
    // has one: issuer http://host/tenant → http://host/.well-known/oauth-authorization-server/tenant,
    // not http://host/tenant/.well-known/... (the OpenID Connect Discovery style, which the
    // v07 client uses for its openid-configuration: OpenID Connect Discovery §4.1).
    const where = has(version, 'v07')
      ? '<path>/.well-known/openid-configuration (OpenID Connect Discovery §4.1)'
      : '/.well-known/oauth-authorization-server/<path> (RFC 8414 §3.1)';
    it(`an issuer with a path: its metadata is at ${where}`, async () => {
      const issuer = `${fakeAs.url}/tenant`;
      rsServes({ ...goodRsMetadata(), authorization_servers: [issuer] });
      asServes(issuer, clientReadsMetadataAt(version, '/tenant'));
      const page = await new Browser().get(`${client.url}/login`);
      expect(fakeAs.seen).toEqual([clientReadsMetadataAt(version, '/tenant')]);
      expect(page.status).toBe(302);
      expect(page.location).toMatch(new RegExp(`^${fakeAs.url}/authorize\\?`));
    });
  },
);

interface FakeRoute {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

interface FakeServer {
  url: string;
  /** What it answers, by path; anything else is a 404. */
  routes: Record<string, FakeRoute>;
  /** The request targets it received, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** A tiny JSON server whose answers the test sets, recording what it was asked. */
async function startFakeServer(): Promise<FakeServer> {
  const server = await startJsonServer((path, req) => {
    fake.seen.push(req.url ?? '/');
    const route = fake.routes[path];
    return [route?.status ?? 404, route?.body ?? { error: 'not_found' }, route?.headers];
  });
  const fake: FakeServer = { url: server.url, routes: {}, seen: [], close: server.close };
  return fake;
}

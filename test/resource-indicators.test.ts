// Resource indicators (RFC 8707, v06+): the client names the API a token is for with
// `resource`, at /authorize and at /token; the AS accepts only resources registered with it
// (else invalid_target, RFC 8707 §2) and makes the one granted the token's audience. A token
// request or a refresh may keep or narrow the granted resources, never name others.

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { authorizeUrl, locationParams, loggedInBrowser } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { codeForm, freshCode, postRefresh, postToken, tokensFor } from '../scripts/lib/token.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

const EVIL = 'http://evil.example/api';

describe.each(versionsFrom('v06'))('%s: resource indicators (RFC 8707)', (version) => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version);
  });
  afterAll(() => lab.close());

  /** Resources that are not the lab's API, each in its own way. */
  const foreign = () => [
    EVIL,
    `${lab.urls.rs}/`, // a trailing slash: not the same identifier
    `${lab.urls.rs}/other-api`,
    lab.urls.as,
  ];

  /** Redeem a fresh code (issued for `authorizeResource`) with `form` extras. */
  async function redeem(extra: Record<string, string> = {}, authorizeResource?: string) {
    const code = await freshCode(lab, { resource: authorizeResource });
    return postToken(lab, codeForm(lab, code, extra));
  }

  const audOf = (token: string) => decodeJwt(token).aud;

  describe('at /authorize', () => {
    it('an unregistered resource → 302 to the callback with invalid_target and the state, no code', async () => {
      for (const resource of foreign()) {
        const browser = await loggedInBrowser(lab);
        const page = await browser.get(authorizeUrl(lab, { resource, state: 'S' }));
        expect(page.status).toBe(302);
        const location = new URL(page.location!);
        expect(`${location.origin}${location.pathname}`).toBe(`${lab.urls.client}/callback`);
        const params = locationParams(page);
        expect(params.get('error')).toBe('invalid_target');
        expect(params.get('state')).toBe('S');
        expect(params.has('code')).toBe(false);
      }
    });

    it('one good and one unregistered resource → invalid_target all the same', async () => {
      const browser = await loggedInBrowser(lab);
      const url = new URL(authorizeUrl(lab, { resource: lab.urls.rs, state: 'S' }));
      url.searchParams.append('resource', EVIL);
      const params = locationParams(await browser.get(url.href));
      expect(params.get('error')).toBe('invalid_target');
      expect(params.has('code')).toBe(false);
    });

    it('no resource → the token’s aud is the RS URL (the lab’s default)', async () => {
      const response = await redeem();
      expect(response.status).toBe(200);
      expect(audOf(response.body.access_token)).toBe(lab.urls.rs);
    });

    it('resource=<RS URL> → the same aud', async () => {
      const response = await redeem({}, lab.urls.rs);
      expect(response.status).toBe(200);
      expect(audOf(response.body.access_token)).toBe(lab.urls.rs);
    });
  });

  describe('at /token', () => {
    it('a resource that was not granted → 400 invalid_target, no token', async () => {
      for (const resource of foreign()) {
        const response = await redeem({ resource }, lab.urls.rs);
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('invalid_target');
        expect(response.body.access_token).toBeUndefined();
        expect(response.headers['cache-control']).toBe('no-store');
      }
    });

    it('the granted resource → 200, and the token’s aud is it', async () => {
      const response = await redeem({ resource: lab.urls.rs }, lab.urls.rs);
      expect(response.status).toBe(200);
      expect(audOf(response.body.access_token)).toBe(lab.urls.rs);
    });

    it('the granted resource, when /authorize named none (all registered ones) → 200', async () => {
      const response = await redeem({ resource: lab.urls.rs });
      expect(response.status).toBe(200);
      expect(audOf(response.body.access_token)).toBe(lab.urls.rs);
    });
  });

  describe('at a refresh', () => {
    it('a foreign resource → 400 invalid_target, and the refresh token is not used up', async () => {
      const { refresh_token: refreshToken } = await tokensFor(lab);
      for (const resource of foreign()) {
        const refused = await postRefresh(lab, refreshToken!, { resource });
        expect(refused.status).toBe(400);
        expect(refused.body.error).toBe('invalid_target');
        expect(refused.body.access_token).toBeUndefined();
      }
      // Refused before it was rotated: not a reuse, the grant lives on.
      const later = await postRefresh(lab, refreshToken!);
      expect(later.status).toBe(200);
      expect(audOf(later.body.access_token)).toBe(lab.urls.rs);
    });

    it('the granted resource → 200, aud = it', async () => {
      const { refresh_token: refreshToken } = await tokensFor(lab);
      const response = await postRefresh(lab, refreshToken!, { resource: lab.urls.rs });
      expect(response.status).toBe(200);
      expect(audOf(response.body.access_token)).toBe(lab.urls.rs);
      // And its successor keeps the grant's resource.
      const next = await postRefresh(lab, response.body.refresh_token);
      expect(next.status).toBe(200);
      expect(audOf(next.body.access_token)).toBe(lab.urls.rs);
    });
  });

  describe('error_description does not echo the value sent', () => {
    const marker = 'http://evil.example/echo-<b>"marker"</b>';
    const echoes = (description: unknown) =>
      /evil\.example|echo-|marker|<b>/.test(String(description ?? ''));

    it('at /authorize', async () => {
      const browser = await loggedInBrowser(lab);
      const params = locationParams(
        await browser.get(authorizeUrl(lab, { resource: marker, state: 'S' })),
      );
      expect(params.get('error')).toBe('invalid_target');
      expect(params.get('error_description')).toBeTruthy();
      expect(echoes(params.get('error_description'))).toBe(false);
    });

    it('at /token and at a refresh', async () => {
      const token = await redeem({ resource: marker });
      expect(token.body.error).toBe('invalid_target');
      expect(token.body.error_description).toBeTruthy();
      expect(echoes(token.body.error_description)).toBe(false);

      const { refresh_token: refreshToken } = await tokensFor(lab);
      const refresh = await postRefresh(lab, refreshToken!, { resource: marker });
      expect(refresh.body.error).toBe('invalid_target');
      expect(echoes(refresh.body.error_description)).toBe(false);
    });
  });
});

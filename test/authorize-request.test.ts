// GET /authorize checks client_id and redirect_uri before anything else, and never redirects
// to a URI it has not matched exactly (RFC 6749 §3.1.2.4, §4.1.2.1; RFC 9700 §4.1.3).

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import type { Browser } from '../scripts/lib/browser.ts';
import { authorizeUrl, loggedInBrowser, throughConsent } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { versionsBefore } from './helpers/versions.ts';

function expectErrorPage(
  page: { status: number; location: string | undefined; text: string },
  error: string,
) {
  expect(page.status).toBe(400);
  expect(page.location).toBeUndefined();
  expect(page.text).toContain('<title>');
  expect(page.text).toContain(error);
}

describe.each(versionsFrom('v01'))('%s: the authorization request', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  let browser: Browser;
  beforeAll(async () => {
    lab = await startVersion(version);
    browser = await loggedInBrowser(lab);
  });
  afterAll(() => lab.close());

  /** Fetch /authorize as a logged-in user, so only the request itself can be at fault. */
  const authorize = (overrides: Record<string, string | undefined>) =>
    browser.get(authorizeUrl(lab, overrides));

  it('redirects a valid request back to the registered redirect_uri with a code', async () => {
    const page = await throughConsent(browser, await authorize({}));
    expect(page.status).toBe(302);
    const location = new URL(page.location!);
    expect(`${location.origin}${location.pathname}`).toBe(`${lab.urls.client}/callback`);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  describe('rejects a bad client on the AS itself, with no redirect', () => {
    it('missing client_id', async () => {
      expectErrorPage(await authorize({ client_id: undefined }), 'client_id');
    });
    it('unknown client_id', async () => {
      expectErrorPage(await authorize({ client_id: 'evil-client' }), 'evil-client');
    });
  });

  describe('rejects any redirect_uri that is not exactly a registered one', () => {
    const variants: Array<[string, (callback: string) => string | undefined]> = [
      ['missing', () => undefined],
      ['trailing slash', (uri) => `${uri}/`],
      ['other case', (uri) => uri.replace('/callback', '/Callback')],
      ['other port', (uri) => uri.replace(/:(\d+)\//, (_m, port) => `:${Number(port) + 1}/`)],
      ['path suffix', (uri) => `${uri}/../evil`],
      ['longer path', (uri) => `${uri}extra`],
      ['extra query', (uri) => `${uri}?next=evil`],
      ['fragment', (uri) => `${uri}#evil`],
      ['userinfo', (uri) => uri.replace('http://', 'http://evil@')],
      ['foreign host', () => 'http://evil.example/callback'],
      ['scheme change', (uri) => uri.replace('http://', 'https://')],
    ];
    it.each(variants)('%s', async (_name, vary) => {
      const page = await authorize({ redirect_uri: vary(`${lab.urls.client}/callback`) });
      expectErrorPage(page, 'redirect_uri');
    });

    it('even when response_type is bad too: an untrusted URI gets no redirect', async () => {
      const page = await authorize({
        redirect_uri: 'http://evil.example/callback',
        response_type: 'token',
      });
      expectErrorPage(page, 'is not registered');
      expect(page.text).not.toContain('unsupported_response_type');
    });
  });

  it('rejects a repeated parameter as invalid_request', async () => {
    const url = `${authorizeUrl(lab)}&client_id=demo-client`;
    const page = await browser.get(url);
    expectErrorPage(page, 'more than once');
  });

  it('escapes markup echoed from the request', async () => {
    const page = await authorize({ client_id: '<script>alert(1)</script>' });
    expect(page.status).toBe(400);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('answers with a page that cannot be framed (RFC 9700 §4.16)', async () => {
    const response = await request(lab.urls.as).get('/login');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });
});

// v01 shows every error on the AS; from v02 on, errors after the redirect_uri is trusted are
// redirected to the client (see state-csrf.test.ts).
describe.each(versionsBefore('v02'))('%s: response_type errors stay on the AS', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  let browser: Browser;
  beforeAll(async () => {
    lab = await startVersion(version);
    browser = await loggedInBrowser(lab);
  });
  afterAll(() => lab.close());

  it('missing response_type → 400 invalid_request', async () => {
    expectErrorPage(
      await browser.get(authorizeUrl(lab, { response_type: undefined })),
      'invalid_request',
    );
  });
  it('response_type=token → 400 unsupported_response_type', async () => {
    const page = await browser.get(authorizeUrl(lab, { response_type: 'token' }));
    expectErrorPage(page, 'unsupported_response_type');
  });
});

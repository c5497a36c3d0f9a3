// What every app of every version shares: titled pages in the party's colour, debug pages,
// errors that are pages or JSON, never a stack trace, and the headers and Host checks every
// answer gets (SPEC §0).

import http from 'node:http';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../shared/app.ts';
import type { RunningLab } from '../shared/lab.ts';
import { StoreFullError } from '../shared/store.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { csrfOf, runFlow } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { repoRoot } from '../scripts/versions.mjs';

/** A raw HTTP/1.1 request, so the test chooses the request target and Host header itself. */
function rawGet(baseUrl: string, target: string, headers: Record<string, string>) {
  const { port } = new URL(baseUrl);
  return new Promise<{ status: number; location?: string; body: string; cookie?: string }>(
    (resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: target, headers }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            location: res.headers.location,
            body,
            cookie: res.headers['set-cookie']?.[0]?.split(';')[0],
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe.each(versionsFrom('v01'))('%s: every app', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  const apps = () => Object.entries(lab.urls);

  it('serves a home page titled with the app’s name and coloured by its role', async () => {
    for (const [role, url] of apps()) {
      const response = await request(url).get('/');
      expect(response.status).toBe(200);
      expect(response.text).toMatch(
        /<title>[^<]*(Client|Authorization Server|Resource Server|Agent)[^<]*<\/title>/,
      );
      expect(response.text).toContain(`class="role-${role}"`);
      expect(response.text).toContain(version);
    }
  });

  it('serves the stylesheet locally (the lab works offline)', async () => {
    for (const [, url] of apps()) {
      const response = await request(url).get('/static/lab.css');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toContain('text/css');
    }
  });

  it('keeps separate session cookies per app (cookies ignore ports)', async () => {
    const { browser } = await runFlow(lab);
    expect([...browser.cookies.keys()].sort()).toEqual(['as.sid', 'client.sid']);
  });

  it('dumps session and storage on /debug/state.json and /debug/state', async () => {
    const as = await request(lab.urls.as).get('/debug/state.json');
    expect(as.status).toBe(200);
    expect(as.headers['cache-control']).toBe('no-store');
    expect(Object.keys(as.body)).toEqual(
      expect.arrayContaining(['yourSession', 'clients', 'users', 'codes', 'allSessions']),
    );
    expect(as.body.clients['demo-client'].redirectUris).toEqual([`${lab.urls.client}/callback`]);
    expect(as.body.users.user0.password).toBe('password0');

    const client = await request(lab.urls.client).get('/debug/state.json');
    expect(client.body.config.clientId).toBe('demo-client');

    for (const [, url] of apps()) {
      const page = await request(url).get('/debug/state');
      expect(page.status).toBe(200);
      expect(page.text).toContain('allSessions');
    }
  });

  it('answers an unknown path with an escaped 404 page', async () => {
    for (const [, url] of apps()) {
      const response = await request(url).get('/<b>nope</b>');
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('<b>nope</b>');
    }
  });

  it('turns a malformed body into a 400 page without a stack trace', async () => {
    const response = await request(lab.urls.as)
      .post('/login')
      .type('form')
      .send('username=' + 'x'.repeat(30_000));
    expect(response.status).toBe(413);
    expect(response.text).not.toMatch(/at \w+ \(|node_modules/);

    const many = Array.from({ length: 200 }, (_, i) => `p${i}=1`).join('&');
    const tooMany = await request(lab.urls.as).post('/login').type('form').send(many);
    expect(tooMany.status).toBe(413);
    expect(tooMany.text).not.toMatch(/at \w+ \(|node_modules/);
  });

  it('answers only to its own loopback name and port (DNS rebinding), 400 otherwise', async () => {
    for (const [, url] of apps()) {
      const { port } = new URL(url);
      for (const host of [
        'evil.example',
        `evil.example:${port}`,
        `localhost:${Number(port) + 1}`,
      ]) {
        const response = await request(url).get('/debug/state.json').set('Host', host);
        expect(response.status, host).toBe(400);
        expect(response.headers['referrer-policy']).toBe('no-referrer');
        expect(response.text).not.toContain('password');
        expect(response.text).not.toContain('{');
      }
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LocalHost:${port}`]) {
        expect((await request(url).get('/').set('Host', host)).status, host).toBe(200);
      }
    }
  });

  it('never redirects to the host of an absolute-form request target', async () => {
    const { port } = new URL(lab.urls.as);
    const host = `localhost:${port}`;
    const authorize = new URL(
      `/authorize?response_type=code&client_id=demo-client&redirect_uri=${encodeURIComponent(`${lab.urls.client}/callback`)}`,
      lab.urls.as,
    );
    const foreign = await rawGet(
      lab.urls.as,
      `http://evil.example${authorize.pathname}${authorize.search}`,
      { host },
    );
    expect(foreign.status).toBe(400);

    // Naming this app itself is fine, and every Location that follows is this app's own.
    const own = await rawGet(
      lab.urls.as,
      `http://${host}${authorize.pathname}${authorize.search}`,
      { host },
    );
    expect(own.status).toBe(302);
    expect(own.location).toBe('/login');
    const browser = new Browser();
    browser.cookies.set('as.sid', own.cookie!.split('=')[1]!);
    const form = await browser.get(`${lab.urls.as}/login`);
    const login = await browser.post(`${lab.urls.as}/login`, {
      _csrf: csrfOf(form),
      username: 'user0',
      password: 'password0',
    });
    expect(login.status).toBe(303);
    expect(login.location!.startsWith('/authorize?')).toBe(true);
  });

  it('sends Referrer-Policy: no-referrer on every answer', async () => {
    for (const [, url] of apps()) {
      for (const path of ['/', '/debug/state', '/nowhere', '/login']) {
        const response = await request(url).get(path);
        expect(response.headers['referrer-policy'], `${url}${path}`).toBe('no-referrer');
      }
    }
  });
});

describe('createApp', () => {
  it('turns a full store into a 503 that says so, as JSON or as a page', async () => {
    const server = http.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://localhost:${(server.address() as { port: number }).port}`;
    const lab = createApp({
      role: 'client',
      baseUrl: url,
      views: path.join(repoRoot, 'versions', 'v01-login-and-code', 'client', 'views'),
    });
    lab.app.get('/full', () => {
      throw new StoreFullError('The store is full, and nothing it holds may be dropped.');
    });
    server.on('request', lab.finish());
    try {
      const json = await request(url).get('/full');
      expect(json.status).toBe(503);
      expect(json.body.error).toBe('service_unavailable');
      expect(json.body.error_description).toContain('store is full');
      const page = await request(url).get('/full').set('Accept', 'text/html');
      expect(page.status).toBe(503);
      expect(page.text).toContain('Try again later');
    } finally {
      server.close();
      lab.close();
    }
  });
});

// What every app of every version shares: titled pages in the party's colour, debug pages,
// and errors that are pages or JSON, never a stack trace.

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { runFlow } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';

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
      expect(response.text).toMatch(/<title>[^<]*(Client|Authorization Server)[^<]*<\/title>/);
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
});

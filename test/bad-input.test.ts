// Hostile input never crashes an app: every endpoint of every version answers garbage with a
// 4xx (or a redirect to a registered URI), never a 5xx, never a stack trace, never raw markup.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import type { Browser, Page } from '../scripts/lib/browser.ts';
import { logInAtAs, runFlow } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import {
  ACCESS_TOKEN_TYPE,
  AGENT,
  basic,
  clientCredentials,
  postToken,
  TOKEN_EXCHANGE,
  tokensFor,
  type TokenResponse,
} from '../scripts/lib/token.ts';
import { has } from './helpers/versions.ts';

const HOSTILE = [
  '',
  ' ',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '%',
  '%E0%A4%A',
  '\u0000',
  '../../etc/passwd',
  'a'.repeat(5_000),
  '😀'.repeat(100),
  'null',
  '[object Object]',
];

const FIELDS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'username',
  'password',
  'decision',
  'grant_type',
  'code',
  'code_verifier',
  'refresh_token',
  'token',
  'token_type_hint',
  '_csrf',
  'text',
];

/** A deterministic mix of hostile values, sometimes repeated, over the OAuth fields. */
function hostileQueries(count: number): string[] {
  const queries: string[] = [];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < count; i++) {
    const params = new URLSearchParams();
    const fields = 1 + next(6);
    for (let f = 0; f < fields; f++) {
      const name = FIELDS[next(FIELDS.length)]!;
      params.append(name, HOSTILE[next(HOSTILE.length)]!);
      if (next(4) === 0) params.append(name, HOSTILE[next(HOSTILE.length)]!);
    }
    queries.push(params.toString());
  }
  return queries;
}

// RFC 6749 §4.1.2.1, §5.2: what error_description may carry. And it never echoes the
// request: none of the hostile values below shows up in it.
const DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;
const ECHOED = /<script|<img|etc\/passwd|a{50}|😀|\[object Object\]/;

function expectSafe(page: Page, registered: string[]) {
  expect(page.status, `${page.url} → ${page.status}`).toBeLessThan(500);
  expect(page.text).not.toMatch(/\n\s+at \S+ \(|node_modules/);
  expect(page.text).not.toContain('<script>alert(1)</script>');
  expect(page.text).not.toContain('<img src=x onerror');
  const descriptions: string[] = [];
  if (page.location && /^https?:/.test(page.location)) {
    expect(registered.some((uri) => page.location!.startsWith(uri))).toBe(true);
    descriptions.push(...new URL(page.location).searchParams.getAll('error_description'));
  }
  if (page.headers.get('content-type')?.includes('application/json')) {
    const body = JSON.parse(page.text) as { error_description?: unknown };
    if (typeof body.error_description === 'string') descriptions.push(body.error_description);
  }
  for (const description of descriptions) {
    expect(description, page.url).toMatch(DESCRIPTION);
    expect(description, page.url).not.toMatch(ECHOED);
  }
}

describe.each(versionsFrom('v01'))('%s: hostile input', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  let browser: Browser;
  let registered: string[];
  beforeAll(async () => {
    lab = await startVersion(version);
    // A browser with a finished flow, so the client has tokens and the AS a logged-in user.
    ({ browser } = await runFlow(lab));
    await logInAtAs(lab, browser);
    // Where a redirect may legitimately go: the apps themselves and the registered callback.
    registered = [`${lab.urls.client}/`, `${lab.urls.as}/`];
  });
  afterAll(() => lab.close());

  const queries = hostileQueries(40);

  /**
   * Send every hostile query to each path of the AS, of the client and (v06+, where the API
   * lives) of the resource server; check every answer.
   */
  async function sweep(
    paths: { as: string[]; client: string[]; rs: string[]; agent?: string[] },
    send: (url: string, query: string) => Promise<Page>,
    each = queries,
  ) {
    const { rs, agent } = lab.urls as Record<string, string>;
    const urls = [
      ...paths.as.map((path) => `${lab.urls.as}${path}`),
      ...paths.client.map((path) => `${lab.urls.client}${path}`),
      ...(rs ? paths.rs.map((path) => `${rs}${path}`) : []),
      ...(agent ? (paths.agent ?? []).map((path) => `${agent}${path}`) : []),
    ];
    for (const url of urls) {
      for (const query of each) expectSafe(await send(url, query), registered);
    }
  }

  it('GET endpoints', () =>
    sweep(
      {
        as: ['/authorize', '/login', '/consent', '/logout', '/api/me', '/jwks.json'].concat(
          has(version, 'v07') ? ['/userinfo', '/.well-known/openid-configuration'] : [],
        ),
        client: ['/callback', '/', '/login'],
        rs: ['/api/me', '/api/notes', '/'],
        agent: ['/', '/tasks'],
      },
      (url, query) => browser.get(`${url}?${query}`),
    ));

  const postPaths = {
    as: ['/login', '/consent', '/logout', '/token', '/revoke', '/api/notes'].concat(
      has(version, 'v06') ? ['/introspect', '/keys/rotate', '/keys/retire'] : [],
      has(version, 'v07') ? ['/userinfo'] : [],
    ),
    client: ['/notes', '/refresh', '/revoke', '/logout'].concat(
      has(version, 'v08') ? ['/tasks'] : [],
    ),
    rs: ['/api/notes', '/mode'],
    agent: ['/tasks'],
  };

  it('POST endpoints', () => sweep(postPaths, (url, query) => browser.postRaw(url, query)));

  it('POST endpoints with no body, or a body that is not a form', async () => {
    const bodies: Array<[string | undefined, string | undefined]> = [
      [undefined, undefined],
      ['text/plain', 'username=user0'],
      ['application/json', '{"token":"x","text":"y"}'],
      ['application/json', '{'],
      ['application/json', '"just a string"'],
      ['multipart/form-data; boundary=x', '--x--'],
      ['application/x-www-form-urlencoded', ''],
    ];
    for (const [type, body] of bodies) {
      const send = (url: string) =>
        browser.send(url, { method: 'POST', ...(type ? { type } : {}), ...(body ? { body } : {}) });
      await sweep(postPaths, send, ['once']);
    }
  });

  if (has(version, 'v07')) {
    // /userinfo reads its token from the Authorization header: hostile values go there too.
    it('/userinfo with a hostile Authorization header', async () => {
      const headers = [
        'Bearer',
        'Bearer ',
        'bearer  a b',
        'Bearer a,b',
        'Bearer %',
        'Bearer eyJhbGciOiJub25lIn0.e30.',
        'Bearer a.b.c',
        `Bearer ${'a'.repeat(5_000)}`,
        'Bearer <script>alert(1)</script>',
        'Bearer "><img src=x onerror=alert(1)>',
        'Basic dXNlcjA6cGFzc3dvcmQw',
        'Bearer ../../etc/passwd',
        'Bearer null',
      ];
      for (const authorization of headers) {
        for (const method of ['GET', 'POST']) {
          const page = await browser.send(`${lab.urls.as}/userinfo`, {
            method,
            headers: { authorization },
          });
          expectSafe(page, registered);
          expect(page.status, authorization).toBeGreaterThanOrEqual(400);
          expect(page.headers.get('www-authenticate') ?? '').not.toMatch(ECHOED);
        }
      }
    });
  }

  if (has(version, 'v08')) {
    /** A user's token the agent may exchange, fresh (60-second tokens, a real clock). */
    const userToken = async () =>
      (await tokensFor(lab, { scope: 'openid profile notes:read notes:write' })).access_token;

    /** The agent's answers carry the AS's refusal in `error`: it must not echo either. */
    function expectQuiet(page: Page) {
      if (!page.headers.get('content-type')?.includes('application/json')) return;
      const { error } = JSON.parse(page.text) as { error?: unknown };
      if (typeof error === 'string') expect(error, page.url).not.toMatch(ECHOED);
    }

    it('the agent’s POST /tasks with a hostile task, task_id or Authorization header', async () => {
      const agent = (lab.urls as Record<string, string>).agent!;
      const post = (form: string, authorization?: string) =>
        browser.send(`${agent}/tasks`, {
          method: 'POST',
          type: 'application/x-www-form-urlencoded',
          body: form,
          ...(authorization ? { headers: { authorization } } : {}),
        });
      const token = await userToken();
      for (const value of HOSTILE) {
        for (const form of [
          new URLSearchParams({ task: value }),
          new URLSearchParams({ task: 'summarise', task_id: value }),
          new URLSearchParams([
            ['task', 'summarise'],
            ['task', value],
          ]),
        ]) {
          const page = await post(form.toString(), `Bearer ${token}`);
          expectSafe(page, registered);
          expectQuiet(page);
        }
        for (const authorization of [`Bearer ${value}`, value, `Basic ${value}`]) {
          // What fetch can put in a header: visible ASCII and spaces.
          if (!/^[\x20-\x7E]+$/.test(authorization)) continue;
          const page = await post('task=summarise', authorization);
          expectSafe(page, registered);
          expectQuiet(page);
          expect(page.status, authorization).toBeGreaterThanOrEqual(400);
        }
      }
      // Not a form at all.
      for (const [type, body] of [
        ['application/json', '{"task":"summarise"}'],
        ['application/json', '{'],
        ['text/plain', 'task=summarise'],
      ]) {
        const page = await browser.send(`${agent}/tasks`, {
          method: 'POST',
          type: type!,
          body: body!,
          headers: { authorization: `Bearer ${token}` },
        });
        expectSafe(page, registered);
        expectQuiet(page);
      }
    });

    it('the AS’s token exchange with junk in every parameter', async () => {
      const agentAuth = basic(AGENT.id, AGENT.secret);
      const actor = (await clientCredentials(lab, AGENT)).body as TokenResponse;
      const rs = (lab.urls as Record<string, string>).rs!;
      const valid = {
        subject_token: await userToken(),
        subject_token_type: ACCESS_TOKEN_TYPE,
        actor_token: actor.access_token,
        actor_token_type: ACCESS_TOKEN_TYPE,
        requested_token_type: ACCESS_TOKEN_TYPE,
        resource: rs,
        audience: rs,
        scope: 'notes:read',
        task_id: 'task-1',
        task: 'Summarise my notes',
      };
      const exchange = (form: URLSearchParams) =>
        postToken(lab, form.toString(), agentAuth).then((response): Page => ({
          url: `${lab.urls.as}/token`,
          status: response.status,
          headers: new Headers(response.headers as Record<string, string>),
          location: response.headers.location,
          text: response.text,
        }));
      expect(
        (await exchange(new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...valid }))).status,
      ).toBe(200);
      // One parameter at a time, the rest valid; then each sent twice.
      for (const name of Object.keys(valid)) {
        for (const value of HOSTILE) {
          const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...valid, [name]: value });
          expectSafe(await exchange(form), registered);
          form.append(name, value);
          expectSafe(await exchange(form), registered);
        }
      }
      // Junk everywhere at once.
      let seed = 11;
      const next = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      for (let i = 0; i < 60; i++) {
        const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
        for (const name of Object.keys(valid)) {
          if (next(3) > 0) form.append(name, HOSTILE[next(HOSTILE.length)]!);
        }
        const page = await exchange(form);
        expectSafe(page, registered);
        // 413 when the junk is more than a form may be.
        expect([400, 413], page.text).toContain(page.status);
      }
      // A task description the AS accepted is shown on its home page: escaped.
      const home = await browser.get(`${lab.urls.as}/`);
      expectSafe(home, registered);
    });
  }

  it('leaves the lab working afterwards', async () => {
    const { callback } = await runFlow(lab);
    expect(callback.status).toBe(200);
  });
});

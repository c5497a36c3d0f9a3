// Token exchange for an AI agent (RFC 8693, v08+): the agent's own token (client_credentials),
// the request checks of RFC 8693 §2.1, the policy (scope, audience, depth), the token it gets
// (§2.2.1, with `act`), a sub-agent one level deeper, the resource server's audit of the act
// chain, and the agent app driven from the client's page.

import { decodeJwt, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, apiPost } from '../scripts/lib/api.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { runFlow, submitClientForm } from '../scripts/lib/flow.ts';
import { manualClock, startApp, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { agentState, clientTokens, notesOf, rsState } from '../scripts/lib/state.ts';
import {
  ACCESS_TOKEN_TYPE,
  actFor,
  AGENT,
  basic,
  BATCH,
  clientCredentials,
  codeForm,
  DEMO,
  freshCode,
  ownToken,
  postRefresh,
  postToken,
  SUBAGENT,
  TOKEN_EXCHANGE,
  tokenExchange,
  tokensFor,
  type TokenResponse,
} from '../scripts/lib/token.ts';

/** Everything the lab's client asks for: the user's token the agent is handed. */
const FULL = 'openid profile email notes:read notes:write';

type Lab = RunningLab<'as' | 'client' | 'rs' | 'agent'>;

describe.each(versionsFrom('v08'))('%s: token exchange (RFC 8693)', (version) => {
  let lab: Lab;
  let clock: ReturnType<typeof manualClock>;
  beforeAll(async () => {
    clock = manualClock();
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  /** user0's access token, with `scope` granted. */
  const userToken = async (scope = FULL) => (await tokensFor(lab, { scope })).access_token;

  /** An exchange that must work: the token response. */
  async function exchanged(
    creds: typeof AGENT,
    subject: string,
    overrides: Record<string, string | undefined> = {},
  ): Promise<TokenResponse> {
    const response = await actFor(lab, creds, subject, overrides);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as TokenResponse;
  }

  /** An exchange that must be refused with `error` (and a 400, RFC 6749 §5.2). */
  function expectRefused(response: request.Response, error: string) {
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error).toBe(error);
    expect(response.body.access_token).toBeUndefined();
    expect(response.headers['cache-control']).toBe('no-store');
  }

  describe('client_credentials: the agent’s own token', () => {
    it('demo-agent gets a token for itself: sub and client_id demo-agent, for the AS only, no scope, no refresh token', async () => {
      const response = await clientCredentials(lab, AGENT);
      expect(response.status).toBe(200);
      const body = response.body as TokenResponse;
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(60);
      // RFC 6749 §4.4.3: no refresh token; the client simply asks again.
      expect(body.refresh_token).toBeUndefined();
      expect(body.scope ?? '').toBe('');
      expect(decodeProtectedHeader(body.access_token).typ).toBe('at+jwt');
      const claims = decodeJwt(body.access_token);
      expect(claims).toMatchObject({ iss: lab.urls.as, sub: AGENT.id, client_id: AGENT.id });
      expect(claims.aud).toBe(lab.urls.as);
      expect(claims.scope ?? '').toBe('');
      expect(claims.act).toBeUndefined();
    });

    it('demo-subagent gets its own, in its own name', async () => {
      const claims = decodeJwt(await ownToken(lab, SUBAGENT));
      expect(claims).toMatchObject({ sub: SUBAGENT.id, client_id: SUBAGENT.id, aud: lab.urls.as });
    });

    it('with a scope → 400 invalid_scope: it is an identity, not a key to the API', async () => {
      expectRefused(await clientCredentials(lab, AGENT, { scope: 'notes:read' }), 'invalid_scope');
    });

    it('demo-client, registered for other grants → 400 unauthorized_client', async () => {
      expectRefused(await clientCredentials(lab, DEMO), 'unauthorized_client');
    });

    it('batch-job, registered for client_credentials, gets one too, in its own name', async () => {
      const response = await clientCredentials(lab, BATCH);
      expect(response.status).toBe(200);
      expect(decodeJwt((response.body as TokenResponse).access_token).sub).toBe(BATCH.id);
    });

    it('wrong secret → 401 invalid_client', async () => {
      const response = await clientCredentials(lab, { id: AGENT.id, secret: 'wrong' });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_client');
    });

    it('the agent’s own token is refused at the API: 401, it is not for that audience', async () => {
      const response = await apiGet(lab, '/api/notes', await ownToken(lab, AGENT));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(response.body.error_description).toMatch(/aud/);
    });
  });

  describe('grants the agent may not use', () => {
    it('authorization_code, even with a real code → 400 unauthorized_client, and the code survives', async () => {
      const code = await freshCode(lab, { scope: 'notes:read' });
      const response = await postToken(lab, codeForm(lab, code), basic(AGENT.id, AGENT.secret));
      expectRefused(response, 'unauthorized_client');
      expect((await postToken(lab, codeForm(lab, code))).status).toBe(200);
    });

    it('refresh_token, even a real one → 400 unauthorized_client, and it survives', async () => {
      const { refresh_token } = await tokensFor(lab, { scope: 'notes:read' });
      const form = { grant_type: 'refresh_token', refresh_token: refresh_token! };
      expectRefused(
        await postToken(lab, form, basic(AGENT.id, AGENT.secret)),
        'unauthorized_client',
      );
      expect((await postRefresh(lab, refresh_token!)).status).toBe(200);
    });

    it('demo-client and batch-job may not exchange tokens → 400 unauthorized_client', async () => {
      const subject = await userToken();
      const form = { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE };
      expectRefused(await tokenExchange(lab, DEMO, form), 'unauthorized_client');
      expectRefused(await tokenExchange(lab, BATCH, form), 'unauthorized_client');
    });
  });

  describe('the request (RFC 8693 §2.1)', () => {
    let subject: string;
    let actor: string;
    /** A valid exchange request by demo-agent, with `overrides` (undefined removes one). */
    const form = (overrides: Record<string, string | undefined> = {}) => ({
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      actor_token: actor,
      actor_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      resource: lab.urls.rs,
      scope: 'notes:read',
      ...overrides,
    });
    const send = (overrides: Record<string, string | undefined>) =>
      tokenExchange(lab, AGENT, form(overrides));
    beforeAll(async () => {
      subject = await userToken();
      actor = await ownToken(lab, AGENT);
    });

    it('the request the cases below spoil is a good one', async () => {
      expect((await send({})).status).toBe(200);
      // The actor token is optional: the caller is authenticated by its secret.
      expect((await send({ actor_token: undefined, actor_token_type: undefined })).status).toBe(
        200,
      );
    });

    const cases: Array<[string, () => Record<string, string | undefined>]> = [
      ['no subject_token', () => ({ subject_token: undefined })],
      ['no subject_token_type', () => ({ subject_token_type: undefined })],
      ['an unknown subject_token_type', () => ({ subject_token_type: 'urn:example:unknown' })],
      [
        'a subject_token_type it does not take (an id_token)',
        () => ({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }),
      ],
      ['an actor_token without actor_token_type', () => ({ actor_token_type: undefined })],
      ['an actor_token_type without actor_token', () => ({ actor_token: undefined })],
      ['an unknown actor_token_type', () => ({ actor_token_type: 'urn:example:unknown' })],
      [
        'a requested_token_type other than an access token',
        () => ({ requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
      ],
      ['a garbage subject_token', () => ({ subject_token: 'garbage' })],
      ['a garbage actor_token', () => ({ actor_token: 'garbage' })],
      [
        'a subject_token that is a JWT signed by someone else',
        () => ({ subject_token: `${subject.split('.').slice(0, 2).join('.')}.${'A'.repeat(342)}` }),
      ],
    ];
    it.each(cases)('%s → 400 invalid_request', async (_name, overrides) => {
      expectRefused(await send(overrides()), 'invalid_request');
    });

    it('a parameter sent twice → 400 invalid_request', async () => {
      const body = new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...form() });
      body.append('subject_token', subject);
      expectRefused(
        await postToken(lab, body.toString(), basic(AGENT.id, AGENT.secret)),
        'invalid_request',
      );
    });

    it('a revoked subject_token → 400 invalid_request', async () => {
      const revoked = await userToken();
      const revocation = await request(lab.urls.as)
        .post('/revoke')
        .type('form')
        .set('Authorization', basic(DEMO.id, DEMO.secret))
        .send({ token: revoked });
      expect(revocation.status).toBe(200);
      expectRefused(await send({ subject_token: revoked }), 'invalid_request');
    });

    it('an expired subject_token → 400 invalid_request', async () => {
      const expiring = await userToken();
      expect((await send({ subject_token: expiring })).status).toBe(200);
      clock.advance(61_000);
      const response = await send({
        subject_token: expiring,
        actor_token: await ownToken(lab, AGENT),
      });
      expectRefused(response, 'invalid_request');
      expect(response.body.error_description).toMatch(/subject_token/);
      // The clock moved on: fresh tokens for the cases after this one.
      subject = await userToken();
      actor = await ownToken(lab, AGENT);
    });

    it('another agent’s token as the actor token (demo-subagent’s, sent by demo-agent) → 400 invalid_request', async () => {
      const response = await send({ actor_token: await ownToken(lab, SUBAGENT) });
      expectRefused(response, 'invalid_request');
      expect(response.body.error_description).toMatch(/actor_token/);
    });

    it('the user’s own token as the actor token → 400 invalid_request', async () => {
      expectRefused(await send({ actor_token: await userToken() }), 'invalid_request');
    });

    it('an exchanged token (the agent acting for the user) as the actor token → 400 invalid_request', async () => {
      const acting = (await send({})).body as TokenResponse;
      expectRefused(await send({ actor_token: acting.access_token }), 'invalid_request');
    });
  });

  describe('the policy: scope, audience, depth', () => {
    it('a scope wider than the user granted → 400 invalid_scope', async () => {
      const readOnly = await userToken('notes:read');
      for (const scope of ['notes:write', 'notes:read notes:write']) {
        expectRefused(await actFor(lab, AGENT, readOnly, { scope }), 'invalid_scope');
      }
      expect((await actFor(lab, AGENT, readOnly, { scope: 'notes:read' })).status).toBe(200);
    });

    it('a scope the user granted but the agent may never hold (profile, openid, email) → 400 invalid_scope', async () => {
      const subject = await userToken();
      for (const scope of ['profile', 'openid', 'email', 'notes:read profile', FULL]) {
        expectRefused(await actFor(lab, AGENT, subject, { scope }), 'invalid_scope');
      }
    });

    it('a scope the sub-agent may never hold (notes:write), even from the user’s own token → 400 invalid_scope', async () => {
      const subject = await userToken();
      expectRefused(
        await actFor(lab, SUBAGENT, subject, { scope: 'notes:write' }),
        'invalid_scope',
      );
    });

    it('an unknown scope → 400 invalid_scope', async () => {
      expectRefused(
        await actFor(lab, AGENT, await userToken(), { scope: 'notes:delete' }),
        'invalid_scope',
      );
    });

    it('a foreign resource or audience (http://evil.example) → 400 invalid_target', async () => {
      const subject = await userToken();
      const evil = 'http://evil.example';
      expectRefused(await actFor(lab, AGENT, subject, { resource: evil }), 'invalid_target');
      expectRefused(
        await actFor(lab, AGENT, subject, { resource: undefined, audience: evil }),
        'invalid_target',
      );
      expectRefused(await actFor(lab, AGENT, subject, { audience: evil }), 'invalid_target');
    });

    it('resource and audience may repeat (RFC 8693 §2.1): one target named twice is fine; two targets → 400 invalid_target', async () => {
      const params = new URLSearchParams({
        grant_type: TOKEN_EXCHANGE,
        subject_token: await userToken(),
        subject_token_type: ACCESS_TOKEN_TYPE,
        actor_token: await ownToken(lab, AGENT),
        actor_token_type: ACCESS_TOKEN_TYPE,
        scope: 'notes:read',
      });
      const send = (targets: Array<[string, string]>) => {
        const form = new URLSearchParams(params);
        for (const [name, value] of targets) form.append(name, value);
        return postToken(lab, form.toString(), basic(AGENT.id, AGENT.secret));
      };
      const rs = lab.urls.rs;
      const same = await send([
        ['resource', rs],
        ['resource', rs],
        ['audience', rs],
      ]);
      expect(same.status, JSON.stringify(same.body)).toBe(200);
      expect(decodeJwt(same.body.access_token).aud).toBe(rs);
      const two = await send([
        ['resource', rs],
        ['resource', 'http://evil.example'],
      ]);
      expectRefused(two, 'invalid_target');
      expect(two.body.error_description).toMatch(/one resource at a time/);
    });

    it('the AS itself as the audience (the user’s token is for /userinfo, the agent’s may not be) → 400 invalid_target', async () => {
      const subject = await userToken();
      expect(decodeJwt(subject).aud).toContain(lab.urls.as);
      expectRefused(
        await actFor(lab, AGENT, subject, { resource: lab.urls.as, scope: 'notes:read' }),
        'invalid_target',
      );
    });

    it('an audience the subject token is not for (the agent’s own token, for the AS only) → 400 invalid_target', async () => {
      expectRefused(
        await actFor(lab, AGENT, await ownToken(lab, AGENT), { scope: 'notes:read' }),
        'invalid_target',
      );
    });

    it('a third exchange (depth 3) → 400 invalid_request naming the depth, whoever asks', async () => {
      const agent = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      const sub = await exchanged(SUBAGENT, agent.access_token, { scope: 'notes:read' });
      expect(decodeJwt(sub.access_token).act).toEqual({
        sub: SUBAGENT.id,
        act: { sub: AGENT.id },
      });
      for (const creds of [AGENT, SUBAGENT]) {
        const response = await actFor(lab, creds, sub.access_token, { scope: 'notes:read' });
        expectRefused(response, 'invalid_request');
        expect(response.body.error_description).toMatch(/2/);
        expect(response.body.error_description).toMatch(/deeper|depth/i);
      }
    });
  });

  describe('a successful exchange (RFC 8693 §2.2.1)', () => {
    it('answers issued_token_type, Bearer, expires_in, the scope asked for, and no refresh token', async () => {
      const body = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      expect(body).toMatchObject({
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        scope: 'notes:read',
      });
      expect(body.expires_in).toBeGreaterThan(0);
      expect(body.expires_in).toBeLessThanOrEqual(60);
      expect(body.refresh_token).toBeUndefined();
      expect(Object.keys(body)).not.toContain('id_token');
    });

    it('the JWT: the user’s sub, the agent’s client_id, the API only, the narrow scope, act, the task', async () => {
      const subject = await userToken();
      const { access_token } = await exchanged(AGENT, subject, {
        scope: 'notes:read',
        task_id: 'task-1',
        task: 'Summarise my notes',
      });
      expect(decodeProtectedHeader(access_token).typ).toBe('at+jwt');
      const claims = decodeJwt(access_token);
      expect(claims).toMatchObject({
        iss: lab.urls.as,
        sub: 'user0',
        client_id: AGENT.id,
        scope: 'notes:read',
        act: { sub: AGENT.id },
        task_id: 'task-1',
        task: 'Summarise my notes',
      });
      // The API alone: not the AS, which the user's token (with openid) names too.
      expect(claims.aud).toBe(lab.urls.rs);
      expect(claims.jti).not.toBe(decodeJwt(subject).jti);
    });

    it('without a task, the token names none', async () => {
      const { access_token } = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      const claims = decodeJwt(access_token);
      expect(claims.task_id).toBeUndefined();
      expect(claims.task).toBeUndefined();
    });

    it('a task_id without its task, or a malformed one → 400 invalid_request', async () => {
      const subject = await userToken();
      for (const task of [
        { task_id: 'task-1' },
        { task: 'Summarise my notes' },
        { task_id: 'not an id!', task: 'Summarise my notes' },
        { task_id: 'task-1', task: 'x'.repeat(201) },
      ]) {
        expectRefused(
          await actFor(lab, AGENT, subject, { scope: 'notes:read', ...task }),
          'invalid_request',
        );
      }
    });

    it('no scope asked for → all the user granted that the agent may hold; no resource → the API', async () => {
      const { access_token, scope } = await exchanged(AGENT, await userToken(), {
        resource: undefined,
      });
      expect(scope!.split(' ').sort()).toEqual(['notes:read', 'notes:write']);
      expect(decodeJwt(access_token).aud).toBe(lab.urls.rs);
    });

    it('the audience parameter works like resource', async () => {
      const { access_token } = await exchanged(AGENT, await userToken(), {
        resource: undefined,
        audience: lab.urls.rs,
        scope: 'notes:read',
      });
      expect(decodeJwt(access_token).aud).toBe(lab.urls.rs);
    });

    it('works at the API for its scope, and is 403 insufficient_scope for another', async () => {
      const { access_token } = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      expect((await apiGet(lab, '/api/notes', access_token)).status).toBe(200);
      const write = await apiPost(lab, '/api/notes', access_token)
        .type('form')
        .send({ text: 'not allowed' });
      expect(write.status).toBe(403);
      expect(write.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
      expect(await notesOf(lab, 'user0')).not.toContain('not allowed');
    });

    it('is refused at /userinfo, which the user’s own token may use', async () => {
      const subject = await userToken();
      const { access_token } = await exchanged(AGENT, subject);
      const userinfo = (token: string) =>
        request(lab.urls.as).get('/userinfo').set('Authorization', `Bearer ${token}`);
      expect((await userinfo(subject)).status).toBe(200);
      const refused = await userinfo(access_token);
      // No openid in its scope (the agent may never hold it), nor the AS in its aud: /userinfo
      // checks the scope first, so 403 insufficient_scope (SPEC v07: an AT without openid).
      expect(refused.status).toBe(403);
      expect(refused.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
      expect(refused.body.sub).toBeUndefined();
    });

    it('is refused by another resource server of the same AS: 401, not its audience', async () => {
      const other = await startApp(version, 'resource-server', 'createResourceServer', {
        asUrl: lab.urls.as,
        now: clock.now,
      });
      try {
        const { access_token } = await exchanged(AGENT, await userToken(), {
          scope: 'notes:read',
        });
        const response = await request(other.url)
          .get('/api/notes')
          .set('Authorization', `Bearer ${access_token}`);
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
        expect(response.body.error_description).toMatch(/aud/);
        // At the API it is for, it works.
        expect((await apiGet(lab, '/api/notes', access_token)).status).toBe(200);
      } finally {
        await other.close();
      }
    });

    it('lives no longer than the subject token: exchanged 50 s before it expires, it expires with it', async () => {
      const subject = await userToken();
      const subjectExp = decodeJwt(subject).exp!;
      clock.advance(50_000);
      const body = await exchanged(AGENT, subject, { scope: 'notes:read' });
      const claims = decodeJwt(body.access_token);
      expect(claims.exp).toBeLessThanOrEqual(subjectExp);
      expect(body.expires_in).toBeLessThanOrEqual(10);
      // A fresh subject token gives (nearly: its exp is in whole seconds) the full 60 seconds.
      const fresh = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      expect(fresh.expires_in).toBeGreaterThanOrEqual(59);
      expect(fresh.expires_in).toBeLessThanOrEqual(60);
    });
  });

  describe('a sub-agent, one level deeper', () => {
    it('exchanges the agent’s token: nested act, the parent’s scope or less, the task inherited', async () => {
      const agent = await exchanged(AGENT, await userToken(), {
        scope: 'notes:read',
        task_id: 'task-2',
        task: 'Summarise my notes, with a helper',
      });
      const sub = await exchanged(SUBAGENT, agent.access_token, { scope: 'notes:read' });
      expect(sub).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, scope: 'notes:read' });
      expect(sub.refresh_token).toBeUndefined();
      const claims = decodeJwt(sub.access_token);
      expect(claims).toMatchObject({
        sub: 'user0',
        client_id: SUBAGENT.id,
        aud: lab.urls.rs,
        scope: 'notes:read',
        act: { sub: SUBAGENT.id, act: { sub: AGENT.id } },
        task_id: 'task-2',
        task: 'Summarise my notes, with a helper',
      });
      expect(claims.exp).toBeLessThanOrEqual(decodeJwt(agent.access_token).exp!);
      expect((await apiGet(lab, '/api/notes', sub.access_token)).status).toBe(200);
    });

    it('a scope its parent lacks → 400 invalid_scope, though the user granted it and its profile allows it', async () => {
      // The parent may only write; the sub-agent asks to read.
      const writeOnly = await exchanged(AGENT, await userToken(), { scope: 'notes:write' });
      expectRefused(
        await actFor(lab, SUBAGENT, writeOnly.access_token, { scope: 'notes:read' }),
        'invalid_scope',
      );
      // And notes:write from a read-only parent.
      const readOnly = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      expectRefused(
        await actFor(lab, SUBAGENT, readOnly.access_token, { scope: 'notes:write' }),
        'invalid_scope',
      );
    });

    it('cannot rebind the task: another task_id in its request is ignored, the parent’s stays', async () => {
      const agent = await exchanged(AGENT, await userToken(), {
        scope: 'notes:read',
        task_id: 'task-3',
        task: 'Summarise my notes',
      });
      const sub = await exchanged(SUBAGENT, agent.access_token, {
        scope: 'notes:read',
        task_id: 'another-task',
        task: 'Add a note',
      });
      expect(decodeJwt(sub.access_token)).toMatchObject({
        task_id: 'task-3',
        task: 'Summarise my notes',
      });
    });

    it('a parent without a task: the first exchange that names one binds it', async () => {
      const agent = await exchanged(AGENT, await userToken(), { scope: 'notes:read' });
      const sub = await exchanged(SUBAGENT, agent.access_token, {
        scope: 'notes:read',
        task_id: 'late-task',
        task: 'Something else',
      });
      expect(decodeJwt(sub.access_token)).toMatchObject({ task_id: 'late-task' });
      // And from then on it is inherited, like any other.
      expect(decodeJwt(agent.access_token).task_id).toBeUndefined();
    });
  });

  describe('the resource server’s audit log', () => {
    /** The newest audit line for `request` with the token `jti`. */
    async function decisionFor(jti: unknown, line: string) {
      const decision = (await rsState(lab)).decisions.find(
        (entry) => entry.jti === jti && entry.request === line,
      );
      expect(decision, `${line} for ${String(jti)}`).toBeDefined();
      return decision!;
    }

    it('an agent’s call: the user, the agent as client, the act chain and the task', async () => {
      const { access_token } = await exchanged(AGENT, await userToken(), {
        scope: 'notes:read',
        task_id: 'audit-1',
        task: 'Summarise my notes',
      });
      expect((await apiGet(lab, '/api/notes', access_token)).status).toBe(200);
      expect(await decisionFor(decodeJwt(access_token).jti, 'GET /api/notes')).toMatchObject({
        status: 200,
        sub: 'user0',
        clientId: AGENT.id,
        actors: [AGENT.id],
        taskId: 'audit-1',
        scope: 'notes:read',
      });
    });

    it('a sub-agent’s call: both actors, outermost first', async () => {
      const agent = await exchanged(AGENT, await userToken(), {
        scope: 'notes:read',
        task_id: 'audit-2',
        task: 'Summarise my notes, with a helper',
      });
      const sub = await exchanged(SUBAGENT, agent.access_token, { scope: 'notes:read' });
      expect((await apiGet(lab, '/api/notes', sub.access_token)).status).toBe(200);
      expect(await decisionFor(decodeJwt(sub.access_token).jti, 'GET /api/notes')).toMatchObject({
        status: 200,
        sub: 'user0',
        clientId: SUBAGENT.id,
        actors: [SUBAGENT.id, AGENT.id],
        taskId: 'audit-2',
      });
    });

    it('the user’s own client’s call: no actors, no task', async () => {
      const subject = await userToken();
      expect((await apiGet(lab, '/api/notes', subject)).status).toBe(200);
      const decision = await decisionFor(decodeJwt(subject).jti, 'GET /api/notes');
      expect(decision).toMatchObject({ sub: 'user0', clientId: DEMO.id, actors: [] });
      expect(decision.taskId).toBeUndefined();
    });

    it('a refused call is logged with its status: 403 with the actors, 401 for the agent’s own token', async () => {
      const { access_token } = await exchanged(AGENT, await userToken(), {
        scope: 'notes:read',
        task_id: 'audit-3',
        task: 'Summarise my notes',
      });
      await apiPost(lab, '/api/notes', access_token).type('form').send({ text: 'no' });
      expect(await decisionFor(decodeJwt(access_token).jti, 'POST /api/notes')).toMatchObject({
        status: 403,
        clientId: AGENT.id,
        actors: [AGENT.id],
        taskId: 'audit-3',
      });
      await apiGet(lab, '/api/me', await ownToken(lab, AGENT));
      const [latest] = (await rsState(lab)).decisions;
      expect(latest).toMatchObject({ request: 'GET /api/me', status: 401 });
      expect(latest!.outcome).toMatch(/aud/);
    });

    it('the RS’s home page shows the chain and the task', async () => {
      const agent = await exchanged(AGENT, await userToken(), {
        scope: 'notes:read',
        task_id: 'audit-4',
        task: 'Summarise my notes',
      });
      const sub = await exchanged(SUBAGENT, agent.access_token, { scope: 'notes:read' });
      await apiGet(lab, '/api/notes', sub.access_token);
      const page = await new Browser().get(`${lab.urls.rs}/`);
      expect(page.text).toContain(
        `acting: <code>${SUBAGENT.id}</code>, delegated by <code>${AGENT.id}</code>`,
      );
      expect(page.text).toContain('task <code>audit-4</code>');
    });
  });

  describe('the agent app, driven from the client’s page', () => {
    let browser: Browser;
    beforeAll(async () => {
      ({ browser } = await runFlow(lab));
    });

    /** Click one of the client's task buttons: the home page it lands on. */
    async function runTask(task: string) {
      const answer = await submitClientForm(lab, browser, '/tasks', { task });
      expect(answer.status).toBe(303);
      expect(answer.location).toBe('/#assistant');
      return browser.get(`${lab.urls.client}/`);
    }

    /** The outcome the agent recorded last. */
    const lastOutcome = async () => (await agentState(lab)).outcomes[0]!;

    it('summarise: the result on the client’s page, with the chain user → agent', async () => {
      const page = await runTask('summarise');
      const outcome = await lastOutcome();
      expect(outcome.result).toMatch(/^You have/);
      expect(outcome.error).toBeUndefined();
      expect(page.text).toContain(htmlEscape(outcome.result!));
      expect(page.text).toContain(outcome.taskId);
      // The user's token, the agent's own, the agent's exchanged one.
      expect(outcome.chain).toHaveLength(3);
      const [user, own, acting] = outcome.chain.map((link) => decodeJwt(link.token));
      expect(user).toMatchObject({ sub: 'user0', client_id: DEMO.id });
      expect(own).toMatchObject({ sub: AGENT.id, client_id: AGENT.id });
      expect(acting).toMatchObject({
        sub: 'user0',
        client_id: AGENT.id,
        scope: 'notes:read',
        act: { sub: AGENT.id },
        task_id: outcome.taskId,
      });
      // The user's token is the one the client holds; the API saw only the agent's.
      expect(outcome.chain[0]!.token).toBe((await clientTokens(lab, browser)).access_token);
      const seen = (await rsState(lab)).decisions.filter((entry) => entry.jti === acting!.jti);
      expect(seen.map((entry) => [entry.request, entry.status, entry.actors])).toEqual([
        ['GET /api/notes', 200, [AGENT.id]],
      ]);
      expect(page.text).toContain('The chain of tokens');
      for (const link of outcome.chain) expect(page.text).toContain(htmlEscape(link.holder));
      expect(page.text).toContain(htmlEscape(JSON.stringify({ sub: AGENT.id })));
    });

    it('add-note: the note is added through the API, by the agent, with notes:write only', async () => {
      const page = await runTask('add-note');
      const outcome = await lastOutcome();
      expect(outcome.result).toMatch(/Added a note/);
      expect(page.text).toContain('Remember to stretch');
      expect(await notesOf(lab, 'user0')).toContain(
        'Remember to stretch (added by your assistant)',
      );
      expect(decodeJwt(outcome.chain[2]!.token)).toMatchObject({
        scope: 'notes:write',
        act: { sub: AGENT.id },
      });
    });

    it('summarise-with-helper: the sub-agent reads, the chain is five tokens deep', async () => {
      const page = await runTask('summarise-with-helper');
      const outcome = await lastOutcome();
      expect(outcome.result).toMatch(/^You have \d+ notes?/);
      expect(page.text).toContain(htmlEscape(outcome.result!));
      expect(outcome.chain).toHaveLength(5);
      const [, , acting, subOwn, subActing] = outcome.chain.map((link) => decodeJwt(link.token));
      expect(subOwn).toMatchObject({ sub: SUBAGENT.id, client_id: SUBAGENT.id });
      expect(subActing).toMatchObject({
        sub: 'user0',
        client_id: SUBAGENT.id,
        scope: 'notes:read',
        act: { sub: SUBAGENT.id, act: { sub: AGENT.id } },
        task_id: outcome.taskId,
      });
      expect(subActing!.exp).toBeLessThanOrEqual(acting!.exp!);
      expect(page.text).toContain(
        htmlEscape(JSON.stringify({ sub: SUBAGENT.id, act: { sub: AGENT.id } })),
      );
      // The API saw the sub-agent, acting through the agent, for this task.
      const decision = (await rsState(lab)).decisions.find((entry) => entry.jti === subActing!.jti);
      expect(decision).toMatchObject({
        status: 200,
        actors: [SUBAGENT.id, AGENT.id],
        taskId: outcome.taskId,
      });
    });

    it('the agent’s state lists its calls: the exchanges and the API call, by whom', async () => {
      await runTask('summarise-with-helper');
      const { calls } = await agentState(lab);
      // Newest first; its own tokens (client_credentials) may come from its cache.
      const done = calls
        .filter((call) => !call.request.includes('client_credentials'))
        .slice(0, 3)
        .reverse()
        .map((call) => [call.by, call.request, call.status]);
      expect(done).toEqual([
        [AGENT.id, `POST ${lab.urls.as}/token (token exchange)`, 200],
        [SUBAGENT.id, `POST ${lab.urls.as}/token (token exchange)`, 200],
        [SUBAGENT.id, `GET ${lab.urls.rs}/api/notes`, 200],
      ]);
    });

    it('the outcome shows once, on the page after the task', async () => {
      await runTask('summarise');
      const again = await browser.get(`${lab.urls.client}/`);
      expect(again.text).not.toContain('The chain of tokens');
    });

    it('an unknown task → the agent answers 400; the client says so and shows no chain', async () => {
      const page = await runTask('delete-everything');
      expect(page.text).toMatch(/The agent answered 400|Send a known task/);
      expect(page.text).not.toContain('The chain of tokens');
    });

    it('the task form needs the client’s CSRF token', async () => {
      const page = await browser.post(`${lab.urls.client}/tasks`, { task: 'summarise' });
      expect(page.status).toBe(403);
    });
  });

  describe('the agent’s POST /tasks, called directly', () => {
    const post = (form: Record<string, string>, authorization?: string) => {
      const req = request(lab.urls.agent).post('/tasks').type('form');
      if (authorization) req.set('Authorization', authorization);
      return req.send(form);
    };

    it('no token or no known task → 400 invalid_request', async () => {
      const token = await userToken();
      expect((await post({ task: 'summarise' })).status).toBe(400);
      expect((await post({ task: 'nope' }, `Bearer ${token}`)).status).toBe(400);
      expect((await post({ task: 'toString' }, `Bearer ${token}`)).status).toBe(400);
      expect((await post({}, `Basic ${token}`)).status).toBe(400);
    });

    it('a dead or garbage user token → 401 invalid_token, so the client knows to refresh', async () => {
      const revoked = await userToken();
      await request(lab.urls.as)
        .post('/revoke')
        .type('form')
        .set('Authorization', basic(DEMO.id, DEMO.secret))
        .send({ token: revoked });
      for (const token of ['garbage', revoked]) {
        const response = await post({ task: 'summarise' }, `Bearer ${token}`);
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
        expect(response.body.result).toBeUndefined();
        expect(response.body.error).toMatch(/refused the exchange/);
      }
    });

    it('a token the AS would not exchange for the API (the sub-agent’s own) → 403: refreshing would not help', async () => {
      const response = await post({ task: 'summarise' }, `Bearer ${await ownToken(lab, SUBAGENT)}`);
      expect(response.status).toBe(403);
      expect(response.body.error).toMatch(/invalid_target/);
    });

    it('a token whose user did not grant what the task needs → 403, and nothing is done', async () => {
      const readOnly = await userToken('notes:read');
      const before = await notesOf(lab, 'user0');
      const response = await post({ task: 'add-note' }, `Bearer ${readOnly}`);
      expect(response.status).toBe(403);
      expect(response.body.error).toMatch(/invalid_scope/);
      expect(await notesOf(lab, 'user0')).toEqual(before);
    });

    it('keeps a well-formed task_id, and makes one up for a malformed one', async () => {
      const token = await userToken();
      const kept = await post({ task: 'summarise', task_id: 'abc-123' }, `Bearer ${token}`);
      expect(kept.body.taskId).toBe('abc-123');
      const made = await post({ task: 'summarise', task_id: '<b>' }, `Bearer ${token}`);
      expect(made.status).toBe(200);
      expect(made.body.taskId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
      expect(decodeJwt(made.body.chain[2].token).task_id).toBe(made.body.taskId);
    });
  });
});

/** What EJS's <%= %> makes of a text. */
function htmlEscape(text: string): string {
  const entities: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&#34;',
    "'": '&#39;',
  };
  return text.replace(/[&<>"']/g, (char) => entities[char]!);
}

// Attacks on an AI agent acting for a user (v08, RFC 8693 token exchange), the tests behind
// `npm run attack agent-forwarding` and the four after it. Before v08 an agent can only be
// handed the user's own token, and can do whatever that token allows (the naive agent,
// scripts/lib/naive-agent.ts, shows it, and still could against v08: the AS never sees what a
// client hands to whom). From v08 the lab's agent exchanges that token for one with the task's
// scope, for the API alone, naming itself in `act`; and the AS refuses an agent that asks for
// more, presents another agent's token, hands a task on too deep, or exchanged a token that
// the user's logout has since revoked.

import { decodeJwt } from 'jose';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import {
  actingToken,
  exchangeAs,
  offersTokenExchange,
  postExchange,
  runAgentTask,
} from '../scripts/lib/agents.ts';
import { apiGet, apiPost, setValidation } from '../scripts/lib/api.ts';
import { runFlow, submitClientForm } from '../scripts/lib/flow.ts';
import { EXPIRED_MS, manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { startNaiveAgent, type NaiveAgent } from '../scripts/lib/naive-agent.ts';
import { clientTokens, notesOf, rsState } from '../scripts/lib/state.ts';
import {
  AGENT,
  DEMO,
  SUBAGENT,
  type Credentials,
  introspect,
  ownToken,
} from '../scripts/lib/token.ts';
import { versionsBetween } from './helpers/versions.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

/** A user (user0 by default) logs in at the client: the browser, and the token the client holds. */
async function userLogsIn(lab: Lab, options: { username?: string; grant?: string[] } = {}) {
  const { browser } = await runFlow(lab, options);
  const tokens = await clientTokens(lab, browser);
  return { browser, token: tokens.access_token, scope: tokens.scope! };
}

/** GET /userinfo at the AS with `token`. */
const userinfo = (lab: Lab, token: string) =>
  request(lab.urls.as).get('/userinfo').set('Authorization', `Bearer ${token}`);

/** A 400 from the token endpoint with `error`. */
function expectRefused(response: request.Response, error: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.body.error).toBe(error);
  expect(response.body.access_token).toBeUndefined();
}

/** A 403 insufficient_scope naming `scope`, in the body and the challenge (RFC 6750 §3.1). */
function expectInsufficientScope(response: request.Response, scope: string) {
  expect(response.status).toBe(403);
  expect(response.body.error).toBe('insufficient_scope');
  expect(response.headers['www-authenticate']).toContain(`scope="${scope}"`);
}

describe.each(versionsFrom('v07'))(
  '%s: agent-forwarding, an agent handed the user’s own token (the attack works)',
  (version) => {
    let lab: Lab;
    let agent: NaiveAgent;
    beforeAll(async () => {
      lab = await startVersion<'as' | 'client' | 'rs'>(version);
    });
    afterAll(() => lab.close());
    beforeEach(async () => {
      agent = await startNaiveAgent(lab.urls.rs);
    });
    afterEach(() => agent.close());

    /** The client forwards user0's token with a read task; the token the agent now holds. */
    async function forwarded() {
      const { token } = await userLogsIn(lab);
      const task = await request(agent.url)
        .post('/tasks')
        .set('Authorization', `Bearer ${token}`)
        .type('form')
        .send('task=summarise');
      expect(task.status).toBe(200);
      expect(agent.received).toEqual([token]);
      return token;
    }

    it('beyond its read task, it writes a note, reads /api/me and /userinfo: all the user granted', async () => {
      const held = await forwarded();
      const write = await apiPost(lab, '/api/notes', held).send({ text: 'not the user’s' });
      expect(write.status).toBe(201);
      expect(await notesOf(lab, 'user0')).toContain('not the user’s');
      expect((await apiGet(lab, '/api/me', held)).status).toBe(200);
      const info = await userinfo(lab, held);
      expect(info.status).toBe(200);
      expect(info.body).toMatchObject({ sub: 'user0', email: 'ada@example.com' });
    });

    it('the API cannot tell it from the client: the audit log names demo-client, and no actor', async () => {
      const held = await forwarded();
      await apiPost(lab, '/api/notes', held).send({ text: 'by the agent' });
      const jti = decodeJwt(held).jti;
      const lines = (await rsState(lab)).decisions.filter((line) => line.jti === jti);
      // The client's own calls (GET /api/me after the login) and the agent's look alike.
      expect(lines.map(({ request: what }) => what)).toEqual(
        expect.arrayContaining(['GET /api/notes', 'POST /api/notes']),
      );
      for (const line of lines) {
        expect(line).toMatchObject({ sub: 'user0', clientId: DEMO.id });
        expect(line.actors ?? []).toEqual([]);
      }
    });
  },
);

describe.each(versionsBetween('v06', 'v08'))(
  '%s: no token exchange (nothing to attack)',
  (version) => {
    let lab: Lab;
    beforeAll(async () => {
      lab = await startVersion<'as' | 'client' | 'rs'>(version);
    });
    afterAll(() => lab.close());

    it('the metadata offers no token exchange, and the token endpoint refuses the grant', async () => {
      expect(await offersTokenExchange(lab)).toBe(false);
      const { token } = await userLogsIn(lab);
      const answer = await postExchange(lab, DEMO, { subject: token });
      expectRefused(answer, 'unsupported_grant_type');
    });
  },
);

describe.each(versionsFrom('v08'))('%s: agent attacks (RFC 8693)', (version) => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version);
  });
  afterAll(() => lab.close());

  /** `who` exchanges `subject` for `scope` at the API, with its own token as actor token. */
  async function ask(who: Credentials, subject: string, scope: string) {
    const actor = await ownToken(lab, who);
    return postExchange(lab, who, { subject, actor, scope, resource: lab.urls.rs });
  }

  it('the metadata offers token exchange', async () => {
    expect(await offersTokenExchange(lab)).toBe(true);
  });

  describe('agent-forwarding: the lab’s agent acts with the task’s token alone', () => {
    it('for a read task: user0’s, by demo-agent, act demo-agent, notes:read, for the API alone, the task bound', async () => {
      const { browser, token: user } = await userLogsIn(lab);
      const { status, body: outcome } = await runAgentTask(lab, browser, 'summarise');
      expect(status).toBe(200);
      expect(outcome.result).toMatch(/^You have 1 note/);
      // The chain starts with the very token the client holds: the agent is handed it.
      expect(outcome.chain[0]!.token).toBe(user);
      const claims = decodeJwt(actingToken(outcome, AGENT.id));
      expect(claims).toMatchObject({
        iss: lab.urls.as,
        sub: 'user0',
        client_id: AGENT.id,
        scope: 'notes:read',
        aud: lab.urls.rs,
        act: { sub: AGENT.id },
        task_id: outcome.taskId,
      });
      expect(claims.exp).toBeLessThanOrEqual(decodeJwt(user).exp!);
    });

    it('with it: writing is 403 insufficient_scope, /api/me 403, and /userinfo, which its aud does not name, 403', async () => {
      const { browser } = await userLogsIn(lab);
      const { body: outcome } = await runAgentTask(lab, browser, 'summarise');
      const token = actingToken(outcome, AGENT.id);
      expectInsufficientScope(
        await apiPost(lab, '/api/notes', token).send({ text: 'not the user’s' }),
        'notes:write',
      );
      expect(await notesOf(lab, 'user0')).not.toContain('not the user’s');
      expectInsufficientScope(await apiGet(lab, '/api/me', token), 'profile');
      // lab: /userinfo asks for the openid scope before it reads aud (openid-provider.test.ts):
      // a 403 naming openid. The AS is not in the token's aud either.
      expectInsufficientScope(await userinfo(lab, token), 'openid');
      expect([decodeJwt(token).aud].flat()).not.toContain(lab.urls.as);
    });

    it('the API’s audit log names the agent acting, and the task, allowed and refused alike', async () => {
      const { browser, token: user } = await userLogsIn(lab);
      const { body: outcome } = await runAgentTask(lab, browser, 'summarise');
      const token = actingToken(outcome, AGENT.id);
      await apiPost(lab, '/api/notes', token).send({ text: 'x' });
      await apiGet(lab, '/api/notes', user);

      const log = (await rsState(lab)).decisions;
      const jti = decodeJwt(token).jti;
      const byAgent = log.filter((line) => line.jti === jti);
      expect(byAgent.map(({ request: what, status }) => `${what} ${status}`)).toEqual([
        'POST /api/notes 403',
        'GET /api/notes 200',
      ]);
      for (const line of byAgent) {
        expect(line).toMatchObject({
          sub: 'user0',
          clientId: AGENT.id,
          scope: 'notes:read',
          actors: [AGENT.id],
          taskId: outcome.taskId,
        });
      }
      // The user's own client, with the user's own token: no actor, no task.
      const own = log.find((line) => line.jti === decodeJwt(user).jti)!;
      expect(own).toMatchObject({ clientId: DEMO.id, actors: [] });
      expect(own.taskId).toBeUndefined();
    });

    it('an add-note task gets notes:write alone: it writes as demo-agent, and may not read', async () => {
      const { browser } = await userLogsIn(lab);
      const { status, body: outcome } = await runAgentTask(lab, browser, 'add-note');
      expect(status).toBe(200);
      const token = actingToken(outcome, AGENT.id);
      expect(decodeJwt(token).scope).toBe('notes:write');
      const added = (await rsState(lab)).notes.user0!.at(-1)!;
      expect(added).toMatchObject({ text: expect.stringMatching(/stretch/), via: AGENT.id });
      expectInsufficientScope(await apiGet(lab, '/api/notes', token), 'notes:read');
    });
  });

  describe('agent-scope-escalation', () => {
    it('beyond the agent’s profile (profile, openid, email) → invalid_scope; within it → granted', async () => {
      const { token: user, scope } = await userLogsIn(lab);
      expect(scope.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
      for (const wider of ['notes:read profile', 'openid', 'email notes:write']) {
        expectRefused(await ask(AGENT, user, wider), 'invalid_scope');
      }
      const within = await ask(AGENT, user, 'notes:read notes:write');
      expect(within.status).toBe(200);
      expect(within.body.scope).toBe('notes:read notes:write');
    });

    it('beyond the user’s grant: user1 granted notes:read alone, notes:write → invalid_scope', async () => {
      const { token: user, scope } = await userLogsIn(lab, {
        username: 'user1',
        grant: ['notes:read'],
      });
      expect(scope).toBe('openid notes:read');
      expectRefused(await ask(AGENT, user, 'notes:write'), 'invalid_scope');
      expect((await ask(AGENT, user, 'notes:read')).status).toBe(200);
    });

    // What the AS does not stop: it cannot know what a task needs. Its ceiling is the user's
    // grant and the agent's profile; asking for no more than the task needs is the agent's part.
    it('the AS cannot know a task’s needs: notes:write for a read task, within both, is granted', async () => {
      const { token: user } = await userLogsIn(lab);
      const answer = await postExchange(lab, AGENT, {
        subject: user,
        actor: await ownToken(lab, AGENT),
        scope: 'notes:write',
        resource: lab.urls.rs,
        extra: { task_id: 'read-only', task: 'Summarise my notes' },
      });
      expect(answer.status).toBe(200);
      expect(decodeJwt(answer.body.access_token as string)).toMatchObject({
        scope: 'notes:write',
        task: 'Summarise my notes',
      });
    });

    it('a sub-agent asks for what its parent’s token lacks → invalid_scope, though its profile allows it', async () => {
      const { token: user } = await userLogsIn(lab);
      const writer = await exchangeAs(lab, AGENT, user, 'notes:write');
      expectRefused(await ask(SUBAGENT, writer, 'notes:read'), 'invalid_scope');
      const reader = await exchangeAs(lab, AGENT, user, 'notes:read');
      const granted = await ask(SUBAGENT, reader, 'notes:read');
      expect(granted.status).toBe(200);
      expect(decodeJwt(granted.body.access_token as string).act).toEqual({
        sub: SUBAGENT.id,
        act: { sub: AGENT.id },
      });
    });

    it('a sub-agent asks for more than a notes:read parent token → invalid_scope', async () => {
      const { token: user } = await userLogsIn(lab);
      const reader = await exchangeAs(lab, AGENT, user, 'notes:read');
      for (const wider of ['notes:write', 'notes:read notes:write', 'notes:read profile']) {
        expectRefused(await ask(SUBAGENT, reader, wider), 'invalid_scope');
      }
    });
  });

  describe('stolen-actor-token', () => {
    it('demo-subagent presents demo-agent’s own token as its actor_token → invalid_request', async () => {
      const { token: user } = await userLogsIn(lab);
      const stolen = await ownToken(lab, AGENT);
      const form = { subject: user, scope: 'notes:read', resource: lab.urls.rs };
      expectRefused(
        await postExchange(lab, SUBAGENT, { ...form, actor: stolen }),
        'invalid_request',
      );
      // Its own actor token goes through, and act names the client the AS authenticated.
      const own = await postExchange(lab, SUBAGENT, {
        ...form,
        actor: await ownToken(lab, SUBAGENT),
      });
      expect(own.status).toBe(200);
      expect(decodeJwt(own.body.access_token as string).act).toEqual({ sub: SUBAGENT.id });
    });

    it('with no client credentials, or demo-agent’s id without its secret → 401 invalid_client', async () => {
      const { token: user } = await userLogsIn(lab);
      const stolen = await ownToken(lab, AGENT);
      const form = { subject: user, actor: stolen, scope: 'notes:read', resource: lab.urls.rs };
      for (const answer of [
        await postExchange(lab, AGENT, form, null),
        await postExchange(lab, AGENT, { ...form, extra: { client_id: AGENT.id } }, null),
      ]) {
        expect(answer.status).toBe(401);
        expect(answer.body.error).toBe('invalid_client');
        expect(answer.headers['www-authenticate']).toMatch(/^Basic /);
      }
    });

    it('the stolen token opens nothing at the API: its aud is the AS → 401 invalid_token', async () => {
      const stolen = await ownToken(lab, AGENT);
      expect(decodeJwt(stolen)).toMatchObject({ sub: AGENT.id, aud: lab.urls.as });
      expect(decodeJwt(stolen).scope).toBeUndefined();
      const answer = await apiGet(lab, '/api/notes', stolen);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
    });
  });

  describe('delegation-depth', () => {
    it('user → demo-agent → demo-subagent is allowed; a third hop, by either agent → invalid_request', async () => {
      const { token: user } = await userLogsIn(lab);
      const first = await exchangeAs(lab, AGENT, user, 'notes:read');
      const second = await exchangeAs(lab, SUBAGENT, first, 'notes:read');
      expect(decodeJwt(second).act).toEqual({ sub: SUBAGENT.id, act: { sub: AGENT.id } });
      for (const who of [AGENT, SUBAGENT]) {
        const third = await ask(who, second, 'notes:read');
        expectRefused(third, 'invalid_request');
        expect(third.body.error_description).toMatch(/deeper/);
      }
    });
  });
});

describe.each(versionsFrom('v08'))(
  '%s: replay-after-logout, an agent’s exchanged token after the user logged out',
  (version) => {
    let lab: Lab;
    let clock: ReturnType<typeof manualClock>;
    beforeEach(async () => {
      clock = manualClock();
      lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
    });
    afterEach(() => lab.close());

    /** user0 runs a delegated task, then logs out at the client: the two exchanged tokens. */
    async function tokensAfterLogout() {
      const { browser } = await userLogsIn(lab);
      const { status, body: outcome } = await runAgentTask(lab, browser, 'summarise-with-helper');
      expect(status).toBe(200);
      const tokens = [actingToken(outcome, AGENT.id), actingToken(outcome, SUBAGENT.id)];
      for (const token of tokens) expect((await introspect(lab, token)).active).toBe(true);
      const out = await submitClientForm(lab, browser, '/logout');
      expect(out.status).toBe(303);
      return tokens;
    }

    it('the logout revokes both: introspection says active:false, the API asking the AS → 401', async () => {
      const tokens = await tokensAfterLogout();
      await setValidation(lab, 'introspection');
      for (const token of tokens) {
        expect(await introspect(lab, token)).toStrictEqual({ active: false });
        const answer = await apiGet(lab, '/api/notes', token);
        expect(answer.status).toBe(401);
        expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
      }
      // Nor can an agent exchange the dead token again.
      expectRefused(
        await postExchange(lab, SUBAGENT, {
          subject: tokens[0]!,
          actor: await ownToken(lab, SUBAGENT),
          scope: 'notes:read',
        }),
        'invalid_request',
      );
    });

    // v06's trade-off, now with agents: a JWT checked locally is good until it expires.
    it('the API checking JWTs by itself accepts them until they expire (≤ 60 s), then 401', async () => {
      const tokens = await tokensAfterLogout();
      await setValidation(lab, 'jwt');
      for (const token of tokens) {
        expect((await apiGet(lab, '/api/notes', token)).status).toBe(200);
        const { exp, iat } = decodeJwt(token);
        expect(exp! - iat!).toBeLessThanOrEqual(60);
      }
      clock.advance(EXPIRED_MS);
      for (const token of tokens) {
        const answer = await apiGet(lab, '/api/notes', token);
        expect(answer.status).toBe(401);
        expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
      }
    });
  },
);

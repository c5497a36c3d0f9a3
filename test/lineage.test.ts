// Token lineage and cascading revocation (v08+): every token made by exchange remembers the
// token it came from, and dies with it. Revoking the user's access token, their refresh token,
// or logging out at the client takes every agent's token made from theirs, at every depth;
// the AS draws the tree, introspection reports `act`, and the resource server sees the
// revocation at once when it asks the AS, and only at expiry when it checks JWTs by itself.

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { runFlow, submitClientForm } from '../scripts/lib/flow.ts';
import { EXPIRED_MS, manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import {
  agentState,
  asState,
  clientTokens,
  rsState,
  type LineageNode,
} from '../scripts/lib/state.ts';
import {
  actFor,
  AGENT,
  basic,
  clientCredentials,
  DEMO,
  introspect,
  postAsClient,
  postRefresh,
  SUBAGENT,
  tokensFor,
  type Credentials,
  type TokenResponse,
} from '../scripts/lib/token.ts';

const FULL = 'openid profile email notes:read notes:write';

describe.each(versionsFrom('v08'))('%s: token lineage and cascading revocation', (version) => {
  let lab: RunningLab<'as' | 'client' | 'rs' | 'agent'>;
  let clock: ReturnType<typeof manualClock>;
  beforeAll(async () => {
    clock = manualClock();
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  /** A token made by exchange, which must work. */
  async function exchange(
    creds: Credentials,
    subject: string,
    overrides: Record<string, string> = {},
  ) {
    const response = await actFor(lab, creds, subject, { scope: 'notes:read', ...overrides });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return (response.body as TokenResponse).access_token;
  }

  /** user0's tokens, the agent's token made from the access token, the sub-agent's from that. */
  async function chain() {
    const { access_token: user, refresh_token } = await tokensFor(lab, { scope: FULL });
    const agent = await exchange(AGENT, user, { task_id: 'lineage-1', task: 'Summarise my notes' });
    const sub = await exchange(SUBAGENT, agent);
    return { user, refresh: refresh_token!, agent, sub };
  }

  const active = async (token: string) => (await introspect(lab, token)).active;

  /** RFC 7009, as `creds` (default demo-client). */
  async function revoke(token: string, creds: Credentials = DEMO) {
    const response = await postAsClient(lab, '/revoke', { token }, basic(creds.id, creds.secret));
    expect(response.status).toBe(200);
  }

  const jti = (token: string) => String(decodeJwt(token).jti);

  /** The node of `token` in the AS's lineage forest, at any depth. */
  async function nodeOf(token: string): Promise<LineageNode | undefined> {
    const find = (nodes: LineageNode[]): LineageNode | undefined => {
      for (const node of nodes) {
        if (node.jti === jti(token)) return node;
        const found = find(node.children);
        if (found) return found;
      }
      return undefined;
    };
    return find((await asState(lab)).lineage ?? []);
  }

  describe('what the AS shows', () => {
    it('the lineage tree: the user’s token → the agent’s → the sub-agent’s', async () => {
      const { user, agent, sub } = await chain();
      const root = (await asState(lab)).lineage!.find((node) => node.jti === jti(user));
      expect(root).toMatchObject({ client: DEMO.id, sub: 'user0', scope: FULL });
      expect(root!.act).toBeUndefined();
      expect(root!.children).toHaveLength(1);
      const [agentNode] = root!.children;
      expect(agentNode).toMatchObject({
        jti: jti(agent),
        client: AGENT.id,
        sub: 'user0',
        scope: 'notes:read',
        act: { sub: AGENT.id },
        task: 'Summarise my notes',
      });
      expect(agentNode!.children).toEqual([
        {
          jti: jti(sub),
          client: SUBAGENT.id,
          sub: 'user0',
          scope: 'notes:read',
          act: { sub: SUBAGENT.id, act: { sub: AGENT.id } },
          task: 'Summarise my notes',
          children: [],
        },
      ]);
      // Not roots of their own.
      const roots = (await asState(lab)).lineage!.map((node) => node.jti);
      expect(roots).not.toContain(jti(agent));
      expect(roots).not.toContain(jti(sub));
    });

    it('the agents’ own tokens stand alone: no parent, no children', async () => {
      const own = (await clientCredentials(lab, AGENT)).body as TokenResponse;
      const node = (await asState(lab)).lineage!.find((n) => n.jti === jti(own.access_token));
      expect(node).toMatchObject({ client: AGENT.id, sub: AGENT.id, children: [] });
    });

    it('the AS’s home page draws the tree', async () => {
      const { user, agent, sub } = await chain();
      const page = await new Browser().get(`${lab.urls.as}/`);
      const at = (token: string) => page.text.indexOf(`<code>${jti(token)}</code>`);
      expect(at(user)).toBeGreaterThan(-1);
      // Nested in that order, each inside its parent's list.
      expect(at(agent)).toBeGreaterThan(at(user));
      expect(at(sub)).toBeGreaterThan(at(agent));
      const between = page.text.slice(at(user), at(sub));
      expect(between.match(/<ul class="lineage">/g)).toHaveLength(2);
    });

    it('introspection reports act (nested for the sub-agent) and the task; none for the user’s own', async () => {
      const { user, agent, sub } = await chain();
      const ofUser = await introspect(lab, user);
      expect(ofUser).toMatchObject({ active: true, client_id: DEMO.id, sub: 'user0' });
      expect(ofUser.act).toBeUndefined();
      expect(ofUser.task_id).toBeUndefined();
      expect(await introspect(lab, agent)).toMatchObject({
        active: true,
        client_id: AGENT.id,
        sub: 'user0',
        scope: 'notes:read',
        act: { sub: AGENT.id },
        task_id: 'lineage-1',
      });
      expect(await introspect(lab, sub)).toMatchObject({
        active: true,
        client_id: SUBAGENT.id,
        act: { sub: SUBAGENT.id, act: { sub: AGENT.id } },
        task_id: 'lineage-1',
      });
    });
  });

  describe('cascading revocation', () => {
    it('revoking the user’s access token revokes the agent’s and the sub-agent’s, and nothing else', async () => {
      const { user, refresh, agent, sub } = await chain();
      const actor = (await clientCredentials(lab, AGENT)).body as TokenResponse;
      await revoke(user);
      expect(await active(user)).toBe(false);
      expect(await active(agent)).toBe(false);
      expect(await active(sub)).toBe(false);
      expect(await nodeOf(agent)).toBeUndefined();
      expect(await nodeOf(sub)).toBeUndefined();
      // Neither the exchanged tokens nor the revoked one can be exchanged again.
      expect((await actFor(lab, SUBAGENT, agent, { scope: 'notes:read' })).body.error).toBe(
        'invalid_request',
      );
      // The user's login goes on (only the access token's subtree went), and the agent's own
      // identity is untouched: it exchanges the user's next token with the same actor token.
      const renewed = await postRefresh(lab, refresh);
      expect(renewed.status).toBe(200);
      const next = (renewed.body as TokenResponse).access_token;
      const again = await actFor(lab, AGENT, next, {
        scope: 'notes:read',
        actor_token: actor.access_token,
      });
      expect(again.status).toBe(200);
    });

    it('revoking the agent’s token (the agent does) takes the sub-agent’s, and leaves the user’s', async () => {
      const { user, agent, sub } = await chain();
      await revoke(agent, AGENT);
      expect(await active(agent)).toBe(false);
      expect(await active(sub)).toBe(false);
      expect(await active(user)).toBe(true);
      expect((await nodeOf(user))!.children).toEqual([]);
    });

    it('revoking the sub-agent’s token leaves its parents', async () => {
      const { user, agent, sub } = await chain();
      await revoke(sub, SUBAGENT);
      expect(await active(sub)).toBe(false);
      expect(await active(agent)).toBe(true);
      expect(await active(user)).toBe(true);
    });

    it('another client may not revoke an agent’s token (RFC 7009 §2.1): 400, and it lives', async () => {
      const { agent, sub } = await chain();
      const response = await postAsClient(lab, '/revoke', { token: agent });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      const bySubagent = await postAsClient(
        lab,
        '/revoke',
        { token: agent },
        basic(SUBAGENT.id, SUBAGENT.secret),
      );
      expect(bySubagent.status).toBe(400);
      expect(await active(agent)).toBe(true);
      expect(await active(sub)).toBe(true);
    });

    it('revoking the refresh token revokes the whole family, exchanged tokens of every generation included', async () => {
      const first = await chain();
      const renewed = (await postRefresh(lab, first.refresh)).body as TokenResponse;
      const agent2 = await exchange(AGENT, renewed.access_token);
      const sub2 = await exchange(SUBAGENT, agent2);
      // Another login's tokens, which must survive.
      const other = await chain();
      await revoke(renewed.refresh_token!);
      for (const token of [
        first.user,
        first.agent,
        first.sub,
        renewed.access_token,
        agent2,
        sub2,
      ]) {
        expect(await active(token)).toBe(false);
      }
      for (const token of [other.user, other.agent, other.sub]) {
        expect(await active(token)).toBe(true);
      }
    });

    it('logging out at the client revokes the tokens agents made from its token; replayed, they are refused and logged', async () => {
      await setValidation(lab, 'introspection');
      try {
        const { browser } = await runFlow(lab);
        const { access_token } = await clientTokens(lab, browser);
        const agent = await exchange(AGENT, access_token);
        const sub = await exchange(SUBAGENT, agent);
        expect((await apiGet(lab, '/api/notes', sub)).status).toBe(200);
        const logout = await submitClientForm(lab, browser, '/logout');
        expect(logout.status).toBe(303);
        for (const token of [access_token, agent, sub]) expect(await active(token)).toBe(false);
        const replayed = await apiGet(lab, '/api/notes', sub);
        expect(replayed.status).toBe(401);
        expect(replayed.headers['www-authenticate']).toMatch(/error="invalid_token"/);
        const [latest] = (await rsState(lab)).decisions;
        expect(latest).toMatchObject({ request: 'GET /api/notes', status: 401 });
      } finally {
        await setValidation(lab, 'jwt');
      }
    });
  });

  describe('what the resource server sees of a revocation', () => {
    beforeEach(() => setValidation(lab, 'jwt'));
    afterAll(() => setValidation(lab, 'jwt'));

    it('asking the AS (introspection): the agent’s and sub-agent’s tokens are refused at once', async () => {
      await setValidation(lab, 'introspection');
      const { user, agent, sub } = await chain();
      expect((await apiGet(lab, '/api/notes', agent)).status).toBe(200);
      expect((await apiGet(lab, '/api/notes', sub)).status).toBe(200);
      await revoke(user);
      for (const token of [agent, sub]) {
        const response = await apiGet(lab, '/api/notes', token);
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      }
    });

    it('checking JWTs by itself: they go on working until they expire (the v06 trade-off, with agents)', async () => {
      const { user, agent, sub } = await chain();
      await revoke(user);
      expect(await active(agent)).toBe(false);
      // The RS never asks, so it cannot know: a revoked agent token still reads the notes...
      expect((await apiGet(lab, '/api/notes', agent)).status).toBe(200);
      expect((await apiGet(lab, '/api/notes', sub)).status).toBe(200);
      // ...until it expires, no later than the user's token did.
      clock.advance(EXPIRED_MS);
      for (const token of [agent, sub]) {
        const response = await apiGet(lab, '/api/notes', token);
        expect(response.status).toBe(401);
        expect(response.body.error_description).toMatch(/expired/);
      }
    });
  });

  describe('a task after a revocation, from the client’s page', () => {
    /** Click a task button on the client: the home page it lands on. */
    async function runTask(browser: Browser, task: string) {
      const answer = await submitClientForm(lab, browser, '/tasks', { task });
      expect(answer.status).toBe(303);
      return browser.get(`${lab.urls.client}/`);
    }

    it('the access token revoked: the agent answers 401, the client refreshes once, and the task is done with the new token', async () => {
      const { browser } = await runFlow(lab);
      const before = (await clientTokens(lab, browser)).access_token;
      await revoke(before);
      const page = await runTask(browser, 'summarise');
      const [done, refused] = (await agentState(lab)).outcomes;
      expect(refused!.chain[0]!.token).toBe(before);
      expect(refused!.error).toMatch(/invalid_request.*subject_token/);
      expect(done!.result).toMatch(/^You have/);
      const after = (await clientTokens(lab, browser)).access_token;
      expect(after).not.toBe(before);
      expect(done!.chain[0]!.token).toBe(after);
      expect(page.text).toContain('The chain of tokens');
      expect(page.text).toContain(done!.taskId);
    });

    it('the refresh token revoked (the whole login): the task fails, and the client asks to log in again', async () => {
      const { browser } = await runFlow(lab);
      const revoked = await submitClientForm(lab, browser, '/revoke');
      expect(revoked.status).toBe(303);
      const page = await runTask(browser, 'summarise');
      const [outcome] = (await agentState(lab)).outcomes;
      expect(outcome!.result).toBeUndefined();
      expect(outcome!.error).toMatch(/refused the exchange: invalid_request/);
      // One try, one refresh (refused), no second try.
      expect((await agentState(lab)).outcomes[1]?.taskId).not.toBe(outcome!.taskId);
      expect(page.text).toContain('Please log in again');
      // The transcript shows why: the agent's 401, the refused refresh.
      expect(page.text).toContain('refused the exchange: invalid_request');
      expect(page.text).not.toContain('You have');
      await expect(clientTokens(lab, browser)).rejects.toThrow();
    });
  });
});

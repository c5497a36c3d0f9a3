// The AI agent (v08): a process of its own, and a client of its own at the AS. A user's client
// hands it a task and the user's access token; the agent never uses that token at the API.
// It trades it for a token of its own (RFC 8693 token exchange): for this user, with the one
// scope the task needs, for the notes API only, naming the agent in its `act` claim. For a
// delegated task its sub-agent does the same with the agent's token, one level deeper.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Request, type Response } from 'express';
import { createApp } from '../../../shared/app.ts';
import { exchange, send, type AsEndpoints, type TokenAnswer } from './exchange.ts';
import { createIdentities, type Call, type Identity } from './identity.ts';
import { summarise, TASKS } from './tasks.ts';

export interface AgentConfig {
  /** This app's own URL, e.g. http://localhost:9003. */
  baseUrl: string;
  /** The issuer of the AS it is registered at, e.g. http://localhost:9001. */
  asUrl: string;
  /** The notes API, e.g. http://localhost:9002: the one resource its tokens are for. */
  rsUrl: string;
  log?: boolean;
  now?: () => number;
}

/** What the agent hands back for a task: the outcome and every token of the chain. */
export interface TaskOutcome {
  task: string;
  taskId: string;
  result?: string;
  error?: string;
  /** The tokens the task went through, in order: whose, and the JWT. */
  chain: Array<{ holder: string; token: string }>;
}

// The most recent calls and tasks kept for the home page (a log, not state).
const KEPT = 30;
// RFC 6750 §2.1: b64token syntax; the scheme name is case-insensitive.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function createAgent(config: AgentConfig) {
  const lab = createApp({
    role: 'agent',
    baseUrl: config.baseUrl,
    views: path.join(path.dirname(fileURLToPath(import.meta.url)), 'views'),
    log: config.log,
    now: config.now,
    errorBody: (status, description) => ({
      error: status >= 500 ? 'server_error' : 'invalid_request',
      error_description: description,
    }),
  });
  const { app } = lab;
  const now = config.now ?? Date.now;
  const { agent, subagent } = createIdentities();
  // lab: the token endpoint by convention; the AS's metadata (RFC 8414) says the same.
  const as: AsEndpoints = { tokenEndpoint: `${config.asUrl}/token` };
  const calls: Call[] = [];
  const outcomes: TaskOutcome[] = [];
  const log = (call: Call) => {
    calls.unshift(call);
    calls.length = Math.min(calls.length, KEPT);
  };

  /** Call the notes API with a token, and log it. */
  async function callApi(
    who: Identity,
    token: string,
    method: 'GET' | 'POST',
    apiPath: string,
    body?: object,
  ) {
    const { status, body: answer } = await send(`${config.rsUrl}${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    log({
      at: new Date().toISOString(),
      by: who.clientId,
      request: `${method} ${config.rsUrl}${apiPath}`,
      status,
      outcome:
        status < 300
          ? 'allowed'
          : `${String(answer.error)}: ${String(answer.error_description ?? '')}`,
    });
    return { status, body: answer };
  }

  /** The sub-agent's one skill: read the notes, with a token it got from the agent's. */
  async function readNotesAsSubagent(parentToken: string, chain: TaskOutcome['chain']) {
    const exchanged = await exchange(
      as,
      subagent,
      { subjectToken: parentToken, resource: config.rsUrl, scope: 'notes:read' },
      log,
      now,
    );
    if (!exchanged.ok) return exchanged;
    chain.push({
      holder: `${subagent.clientId} (its own token, the actor token)`,
      token: exchanged.actorToken!,
    });
    chain.push({
      holder: `${subagent.clientId}, acting for the user through ${agent.clientId}`,
      token: exchanged.token,
    });
    return {
      ok: true as const,
      notes: await callApi(subagent, exchanged.token, 'GET', '/api/notes'),
    };
  }

  const router = Router();

  // A task from a user's client: the user's access token in the Authorization header (it is a
  // bearer token for the agent to exchange, not to use), the task's name in the form.
  router.post('/tasks', async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.task === 'string' ? body.task : '';
    const task = Object.hasOwn(TASKS, name) ? TASKS[name] : undefined;
    const userToken = BEARER.exec(req.get('authorization') ?? '')?.[1];
    if (!task || !userToken) {
      res.status(400).json({
        error: 'invalid_request',
        error_description: "Send a known task and the user's access token as a Bearer token.",
      });
      return;
    }
    const rawId = typeof body.task_id === 'string' ? body.task_id : '';
    const taskId = /^[A-Za-z0-9_-]{1,64}$/.test(rawId)
      ? rawId
      : randomBytes(6).toString('base64url');
    const outcome: TaskOutcome = {
      task: task.description,
      taskId,
      chain: [{ holder: 'the user’s client (the subject token)', token: userToken }],
    };
    const finish = (status: number, extra: Partial<TaskOutcome>) => {
      Object.assign(outcome, extra);
      outcomes.unshift(outcome);
      outcomes.length = Math.min(outcomes.length, KEPT);
      res.status(status).json(outcome);
    };

    // 1. A token of its own to act for the user: the task's scope, the notes API, its act claim.
    const exchanged = await exchange(
      as,
      agent,
      {
        subjectToken: userToken,
        resource: config.rsUrl,
        scope: task.scope,
        task: { id: taskId, description: task.description },
      },
      log,
      now,
    );
    if (!exchanged.ok) {
      if (exchanged.actorToken) {
        outcome.chain.push({
          holder: `${agent.clientId} (its own token)`,
          token: exchanged.actorToken,
        });
      }
      return refused(exchanged);
    }
    outcome.chain.push({
      holder: `${agent.clientId} (its own token, the actor token)`,
      token: exchanged.actorToken!,
    });
    outcome.chain.push({
      holder: `${agent.clientId}, acting for the user`,
      token: exchanged.token,
    });

    // 2. The task itself, with that token and nothing more.
    if (name === 'add-note') {
      const added = await callApi(agent, exchanged.token, 'POST', '/api/notes', {
        text: 'Remember to stretch (added by your assistant)',
      });
      if (added.status !== 201) return finish(502, { error: `The API answered ${added.status}.` });
      return finish(200, {
        result: 'Added a note: “Remember to stretch (added by your assistant)”.',
      });
    }
    const read = task.delegated
      ? await readNotesAsSubagent(exchanged.token, outcome.chain)
      : { ok: true as const, notes: await callApi(agent, exchanged.token, 'GET', '/api/notes') };
    if (!read.ok) return refused(read);
    if (read.notes.status !== 200)
      return finish(502, { error: `The API answered ${read.notes.status}.` });
    const notes = (read.notes.body.notes ?? []) as Array<{ text: string }>;
    finish(200, { result: summarise(notes) });

    /** The AS refused an exchange. A dead subject token is the client's to renew: a 401. */
    function refused(answer: Extract<TokenAnswer, { ok: false }>) {
      // The lab AS words a dead subject token this way (grants/token-exchange.ts).
      const deadSubject =
        answer.error === 'invalid_request' && /subject_token/.test(answer.description);
      if (deadSubject) {
        res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      }
      finish(deadSubject ? 401 : 403, {
        error: `The authorization server refused the exchange: ${answer.error}: ${answer.description}`,
      });
    }
  });

  app.get('/', (_req, res) => {
    res.render('home', {
      agent,
      subagent,
      rsUrl: config.rsUrl,
      asUrl: config.asUrl,
      calls,
      outcomes,
    });
  });
  app.use(router);

  lab.debug(() => ({
    identities: [agent, subagent].map(({ clientId, clientSecret, name, own }) => ({
      clientId,
      clientSecret,
      name,
      ownToken: own?.token,
    })),
    tokenEndpoint: as.tokenEndpoint,
    calls,
    outcomes,
  }));

  return {
    app: lab.finish(),
    close() {
      lab.close();
    },
  };
}

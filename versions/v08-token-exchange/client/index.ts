// The client: a web app that wants to act for the user, so it sends them to the AS.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { csrfToken, requireCsrf } from '../../../shared/csrf.ts';
import { Store } from '../../../shared/store.ts';
import { transcriptOf } from '../../../shared/transcript.ts';
import type { ApiResult } from './api.ts';
import type { AuthorizationServer } from './discovery.ts';
import { describeJwt } from './jwt-view.ts';
import { loginRoutes, PENDING_LOGIN_TTL_MS, type PendingLogin } from './login.ts';
import {
  callApiRefreshing,
  IN_FLIGHT_TTL_MS,
  refreshTokens,
  type InFlight,
  type Refreshing,
} from './refresh.ts';
import { runTask, TASK_BUTTONS } from './tasks.ts';
import { revokeToken, type TokenResponse } from './token-request.ts';

export interface ClientConfig {
  /** This app's own URL, e.g. http://localhost:9000. */
  baseUrl: string;
  /** The API's URL, e.g. http://localhost:9002: all the client is told; it finds the AS. */
  rsUrl: string;
  /** The AI agent's URL, e.g. http://localhost:9003, which does tasks for the user. */
  agentUrl: string;
  log?: boolean;
  now?: () => number;
}

declare module 'express-session' {
  interface SessionData {
    /** Who the user is, from GET /api/me. */
    profile?: Record<string, unknown>;
    /** The agent's answer to the last task, shown once on the home page. */
    taskOutcome?: { status: number; body: Record<string, unknown> };
    /** The outcome of the last note the user tried to add, shown once on the home page. */
    flash?: ApiResult;
  }
}

export function createClient(config: ClientConfig) {
  const lab = createApp({
    role: 'client',
    baseUrl: config.baseUrl,
    views: path.join(path.dirname(fileURLToPath(import.meta.url)), 'views'),
    log: config.log,
    now: config.now,
  });
  const { app } = lab;

  // What the AS has on file for us (see auth-server/clients.ts).
  const clientId = 'demo-client';
  const clientSecret = 'demo-secret';
  const redirectUri = `${config.baseUrl}/callback`;
  // Where the AS is and its endpoints, the client learns by discovery at each login
  // (discovery.ts): until the first one, nowhere.
  const as: AuthorizationServer = {
    issuer: '',
    authorizationEndpoint: '',
    tokenEndpoint: '',
    revocationEndpoint: '',
    userinfoEndpoint: '',
    jwksUri: '',
    issParameterSupported: false,
  };
  const credentials = { tokenEndpoint: '', revocationEndpoint: '', clientId, clientSecret };
  // What this client asks the user to allow (RFC 6749 §3.3).
  // `openid` makes it OpenID Connect: the AS also says who logged in (Core §3.1.2.1).
  const scope = 'openid profile email notes:read notes:write';
  const api = (path: string) => `${config.rsUrl}${path}`;
  // One login under way per browser session. Losing one to a flood only makes its callback
  // fail (fail closed), so the oldest go first when there are too many.
  const pendingLogins = new Store<PendingLogin>({
    ttlMs: PENDING_LOGIN_TTL_MS,
    whenFull: 'evict-oldest',
    now: config.now,
  });
  // The tokens of each logged-in browser, by session id. On the server, not in the session:
  // express-session writes a whole session back at the end of every request, so a request
  // that read the tokens before another one replaced them would write the old ones back.
  const tokens = new Store<TokenResponse>({
    ttlMs: 60 * 60_000,
    maxEntries: 100_000,
    now: config.now,
  });
  // Refreshes under way, shared by concurrent requests (see refresh.ts).
  const inFlight: InFlight = new Store({ ttlMs: IN_FLIGHT_TTL_MS, now: config.now });
  const refreshing: Refreshing = { credentials, tokens, inFlight };

  app.get('/', async (req, res) => {
    // Logged in: read the user's notes through the API, refreshing the token if need be.
    const notes = await callApiRefreshing(req, refreshing, 'GET', api('/api/notes'));
    const { flash, loginAgain, taskOutcome: outcome } = req.session;
    delete req.session.flash;
    delete req.session.loginAgain;
    delete req.session.taskOutcome;
    res.render('home', {
      hops: transcriptOf(req),
      rsUrl: config.rsUrl,
      agentUrl: config.agentUrl,
      asUrl: as.issuer,
      tokens: tokens.get(req.sessionID),
      jwt: describeJwt(tokens.get(req.sessionID)?.access_token ?? ''),
      signedIn: req.session.signedIn,
      idToken: describeJwt(req.session.signedIn?.idToken ?? '', 'id'),
      profile: req.session.profile,
      notes,
      flash,
      loginAgain,
      tasks: TASK_BUTTONS,
      taskOutcome: taskOutcome(outcome),
      csrfToken: csrfToken(req),
    });
  });

  // A task for the agent: the outcome shows once, on the next page.
  app.post('/tasks', requireCsrf, async (req, res) => {
    const task = typeof req.body?.task === 'string' ? req.body.task : '';
    const answer = await runTask(req, refreshing, config.agentUrl, task);
    req.session.taskOutcome = answer && { status: answer.status, body: answer.body };
    res.redirect(303, '/#assistant');
  });

  // Add a note for the user: a write through the API, which needs notes:write. Like every form
  // of this client that changes something, it carries a token only this client's pages know
  // (requireCsrf), so another site cannot post it in the user's name.
  app.post('/notes', requireCsrf, async (req, res) => {
    const text = typeof req.body?.text === 'string' ? req.body.text : '';
    req.session.flash = await callApiRefreshing(req, refreshing, 'POST', api('/api/notes'), {
      text,
    });
    res.redirect(303, '/');
  });

  // "Refresh now": what the client does by itself when the access token expires.
  app.post('/refresh', requireCsrf, async (req, res) => {
    await refreshTokens(req, refreshing);
    res.redirect(303, '/');
  });

  // "Revoke": give up the refresh token, and with it every token of this grant (RFC 7009).
  // The tokens stay in this client on purpose, so the next page shows what happens to them.
  app.post('/revoke', requireCsrf, async (req, res) => {
    const refreshToken = tokens.get(req.sessionID)?.refresh_token;
    if (refreshToken) await revokeToken(req, credentials, refreshToken, 'refresh_token');
    res.redirect(303, '/');
  });

  // Log out here, then offer the AS's own logout: two sessions, two servers. The refresh
  // token is revoked first, so it is worthless to anyone who copied it.
  app.post('/logout', requireCsrf, async (req, res, next) => {
    const refreshToken = tokens.get(req.sessionID)?.refresh_token;
    if (refreshToken) await revokeToken(req, credentials, refreshToken, 'refresh_token');
    tokens.delete(req.sessionID);
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie('client.sid');
      res.redirect(303, `${as.issuer}/logout?client_id=${clientId}`);
    });
  });

  app.use(
    loginRoutes({
      baseUrl: config.baseUrl,
      rsUrl: config.rsUrl,
      as,
      clientId,
      redirectUri,
      pendingLogins,
      tokens,
      credentials,
      scope,
      api,
      now: config.now ?? Date.now,
    }),
  );

  lab.debug((req) => ({
    yourPendingLogin: pendingLogins.get(req.sessionID),
    yourTokens: tokens.get(req.sessionID),
    config: {
      clientId,
      clientSecret,
      redirectUri,
      resource: config.rsUrl,
    },
    discovered: as,
    pendingLogins: pendingLogins.dump(),
    tokens: tokens.dump(),
  }));

  return {
    app: lab.finish(),
    close() {
      pendingLogins.close();
      tokens.close();
      inFlight.close();
      lab.close();
    },
  };
}

/** The agent's answer, with each token of its chain decoded for the page. */
function taskOutcome(outcome: { status: number; body: Record<string, unknown> } | undefined) {
  if (!outcome) return undefined;
  const chain = Array.isArray(outcome.body.chain) ? outcome.body.chain : [];
  return {
    status: outcome.status,
    task: String(outcome.body.task ?? ''),
    taskId: String(outcome.body.taskId ?? ''),
    result: typeof outcome.body.result === 'string' ? outcome.body.result : undefined,
    error:
      typeof outcome.body.error === 'string'
        ? outcome.body.error
        : outcome.status === 200
          ? undefined
          : `The agent answered ${outcome.status}.`,
    // Whether the agent got a token to act for the user at all (one with an act claim).
    exchanged: chain.some((link: { token?: unknown }) =>
      Boolean(describeJwt(String(link.token))?.claims.some((claim) => claim.name === 'act')),
    ),
    chain: chain.map((link: { holder?: unknown; token?: unknown }) => {
      const claims: Record<string, string> = Object.fromEntries(
        (describeJwt(String(link.token))?.claims ?? []).map((claim) => [claim.name, claim.value]),
      );
      // What the holder can do with it, in words: from its scope and audience.
      const aud: string = claims.aud?.startsWith('[')
        ? (JSON.parse(claims.aud) as string[]).join(' and ')
        : (claims.aud ?? '');
      const canDo =
        claims.sub === claims.client_id
          ? `prove it is ${claims.client_id}, at the authorization server only`
          : `${claims.scope} for ${claims.sub}, at ${aud}`;
      return { holder: String(link.holder), claims, canDo, token: String(link.token) };
    }),
  };
}

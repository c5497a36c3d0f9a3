// The client: a web app that wants to act for the user, so it sends them to the AS.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { csrfToken, requireCsrf } from '../../../shared/csrf.ts';
import { Store } from '../../../shared/store.ts';
import { transcriptOf } from '../../../shared/transcript.ts';
import { callApi, type ApiResult } from './api.ts';
import { loginRoutes, PENDING_LOGIN_TTL_MS, type PendingLogin } from './login.ts';
import type { TokenResponse } from './token-request.ts';

export interface ClientConfig {
  /** This app's own URL, e.g. http://localhost:9000. */
  baseUrl: string;
  /** The authorization server's URL, e.g. http://localhost:9001. */
  asUrl: string;
  log?: boolean;
  now?: () => number;
}

declare module 'express-session' {
  interface SessionData {
    /** Who the user is, from GET /api/me. */
    profile?: Record<string, unknown>;
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
  const tokenEndpoint = `${config.asUrl}/token`;
  const credentials = { tokenEndpoint, clientId, clientSecret };
  // What this client asks the user to allow (RFC 6749 §3.3).
  const scope = 'profile notes:read notes:write';
  const api = (path: string) => `${config.asUrl}${path}`;
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

  app.get('/', async (req, res) => {
    const mine = tokens.get(req.sessionID);
    // Logged in: read the user's notes through the API, with the token.
    const notes = mine
      ? await callApi(req, mine.access_token, 'GET', api('/api/notes'))
      : undefined;
    const { flash } = req.session;
    delete req.session.flash;
    res.render('home', {
      hops: transcriptOf(req),
      asUrl: config.asUrl,
      tokens: mine,
      profile: req.session.profile,
      notes,
      flash,
      csrfToken: csrfToken(req),
    });
  });

  // Add a note for the user: a write through the API, which needs notes:write. Like every form
  // of this client that changes something, it carries a token only this client's pages know
  // (requireCsrf), so another site cannot post it in the user's name.
  app.post('/notes', requireCsrf, async (req, res) => {
    const mine = tokens.get(req.sessionID);
    if (!mine) return res.redirect(303, '/');
    const text = typeof req.body?.text === 'string' ? req.body.text : '';
    req.session.flash = await callApi(req, mine.access_token, 'POST', api('/api/notes'), {
      text,
    });
    res.redirect(303, '/');
  });

  // Log out here, then offer the AS's own logout: two sessions, two servers.
  app.post('/logout', requireCsrf, (req, res, next) => {
    tokens.delete(req.sessionID);
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie('client.sid');
      res.redirect(303, `${config.asUrl}/logout?client_id=${clientId}`);
    });
  });

  app.use(
    loginRoutes({
      baseUrl: config.baseUrl,
      asUrl: config.asUrl,
      clientId,
      redirectUri,
      pendingLogins,
      tokens,
      credentials,
      scope,
      api,
    }),
  );

  lab.debug((req) => ({
    yourPendingLogin: pendingLogins.get(req.sessionID),
    yourTokens: tokens.get(req.sessionID),
    config: {
      clientId,
      clientSecret,
      redirectUri,
      authorizationServer: config.asUrl,
      tokenEndpoint,
    },
    pendingLogins: pendingLogins.dump(),
    tokens: tokens.dump(),
  }));

  return {
    app: lab.finish(),
    close() {
      pendingLogins.close();
      tokens.close();
      lab.close();
    },
  };
}

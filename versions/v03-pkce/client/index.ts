// The client: a web app that wants to act for the user, so it sends them to the AS.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { Store } from '../../../shared/store.ts';
import { transcriptOf } from '../../../shared/transcript.ts';
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

  app.get('/', (req, res) => {
    res.render('home', {
      hops: transcriptOf(req),
      asUrl: config.asUrl,
      tokens: tokens.get(req.sessionID),
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

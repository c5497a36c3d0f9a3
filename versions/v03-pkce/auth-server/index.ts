// The authorization server (AS): knows users and clients, logs users in, issues codes, and
// trades them for access tokens at its token endpoint.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { Store } from '../../../shared/store.ts';
import { authorizeRoutes, CODE_TTL_MS, type CodeGrant } from './authorize.ts';
import { createClients } from './clients.ts';
import { unhandledError } from './errors.ts';
import { loginRoutes } from './login.ts';
import { tokenRoutes } from './token.ts';
import { ACCESS_TOKEN_TTL_MS, type AccessToken } from './tokens.ts';
import { createUsers } from './users.ts';

export interface AuthServerConfig {
  /** This server's own URL, e.g. http://localhost:9001. */
  baseUrl: string;
  /** The client's URL; its redirect URI is registered under it. */
  clientUrl: string;
  log?: boolean;
  now?: () => number;
}

export function createAuthServer(config: AuthServerConfig) {
  const lab = createApp({
    role: 'as',
    baseUrl: config.baseUrl,
    views: path.join(path.dirname(fileURLToPath(import.meta.url)), 'views'),
    log: config.log,
    now: config.now,
    errorBody: unhandledError,
  });
  const { app } = lab;

  const clients = createClients(config.clientUrl);
  const users = createUsers();
  // A code lives 60 s, so even a flood of requests holds few at once; if this many are ever
  // waiting, new ones are refused (503) and none is dropped.
  const codes = new Store<CodeGrant>({
    ttlMs: CODE_TTL_MS,
    sweepMs: 10_000,
    maxEntries: 100_000,
    now: config.now,
  });
  const accessTokens = new Store<AccessToken>({
    ttlMs: ACCESS_TOKEN_TTL_MS,
    maxEntries: 100_000,
    now: config.now,
  });

  app.get('/', (req, res) => {
    res.render('home', {
      user: req.session.user,
      clients: [...clients.values()],
      clientUrl: config.clientUrl,
    });
  });
  app.use(authorizeRoutes({ clients, codes }));
  app.use(loginRoutes({ clients, users }));
  app.use(tokenRoutes({ clients, codes, accessTokens }));

  lab.debug(() => ({
    clients: Object.fromEntries(clients),
    users: Object.fromEntries(users),
    codes: codes.dump(),
    accessTokens: accessTokens.dump(),
  }));

  return {
    app: lab.finish(),
    close() {
      codes.close();
      accessTokens.close();
      lab.close();
    },
  };
}

// The authorization server (AS): knows users and clients, logs users in, issues codes.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { Store } from '../../../shared/store.ts';
import { apiRoutes, createNotes } from './api.ts';
import { authorizeRoutes, CODE_TTL_MS, type CodeGrant } from './authorize.ts';
import { createClients } from './clients.ts';
import { consentRoutes } from './consent.ts';
import { loginRoutes } from './login.ts';
import { logoutRoutes } from './logout.ts';
import { revokeRoutes } from './revoke.ts';
import {
  ACCESS_TOKEN_TTL_MS,
  REFRESH_TOKEN_TTL_MS,
  tokenRoutes,
  type AccessToken,
  type RefreshToken,
} from './token.ts';
import { createUsers } from './users.ts';

export interface AuthServerConfig {
  /** This server's own URL, e.g. http://localhost:9001. */
  baseUrl: string;
  /** The client's URL; its redirect URI is registered under it. */
  clientUrl: string;
  /** Access token lifetime; default ACCESS_TOKEN_TTL_MS (60 s). */
  accessTokenTtlMs?: number;
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
  });
  const { app } = lab;

  const clients = createClients(config.clientUrl);
  const users = createUsers();
  const codes = new Store<CodeGrant>({ ttlMs: CODE_TTL_MS, sweepMs: 10_000, now: config.now });
  const accessTokenTtlMs = config.accessTokenTtlMs ?? ACCESS_TOKEN_TTL_MS;
  const accessTokens = new Store<AccessToken>({ ttlMs: accessTokenTtlMs, now: config.now });
  const refreshTokens = new Store<RefreshToken>({ ttlMs: REFRESH_TOKEN_TTL_MS, now: config.now });
  const consents = new Store<string[]>({ ttlMs: Infinity });
  const notes = createNotes();

  app.get('/', (req, res) => {
    res.render('home', {
      user: req.session.user,
      clients: [...clients.values()],
      clientUrl: config.clientUrl,
    });
  });
  app.use(authorizeRoutes({ clients, codes, consents }));
  app.use(loginRoutes({ clients, users }));
  app.use(consentRoutes({ clients, codes, consents }));
  app.use(logoutRoutes({ clients }));
  app.use(tokenRoutes({ clients, codes, accessTokens, refreshTokens, accessTokenTtlMs }));
  app.use(revokeRoutes({ clients, accessTokens, refreshTokens }));
  app.use(apiRoutes({ accessTokens, users, notes }));

  lab.debug(() => ({
    clients: Object.fromEntries(clients),
    users: Object.fromEntries(users),
    codes: codes.dump(),
    accessTokens: accessTokens.dump(),
    refreshTokens: refreshTokens.dump(),
    consents: consents.dump(),
    notes: Object.fromEntries(notes),
  }));

  return {
    app: lab.finish(),
    close() {
      codes.close();
      accessTokens.close();
      refreshTokens.close();
      consents.close();
      lab.close();
    },
  };
}

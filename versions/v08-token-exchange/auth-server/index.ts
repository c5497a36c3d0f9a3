// The authorization server (AS): knows users, clients and resources, logs users in, asks for
// their consent, issues codes, signed access tokens and refresh tokens, revokes them, answers
// introspection, and publishes its metadata and keys. With OpenID Connect it also tells the
// client who logged in: an id_token, and /userinfo.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { csrfToken } from '../../../shared/csrf.ts';
import { Store } from '../../../shared/store.ts';
import { authorizeRoutes, CODE_TTL_MS, type CodeGrant, type PendingConsent } from './authorize.ts';
import { createClients } from './clients.ts';
import { consentRoutes } from './consent.ts';
import { unhandledError } from './errors.ts';
import { introspectRoutes } from './introspect.ts';
import { keyRotationRoutes } from './key-rotation.ts';
import { createSigningKeys } from './keys.ts';
import { loginRoutes } from './login.ts';
import { logoutRoutes } from './logout.ts';
import { metadataRoutes } from './metadata.ts';
import { createResources } from './resources.ts';
import { revokeRoutes } from './revoke.ts';
import { tokenRoutes } from './token.ts';
import { userinfoRoutes } from './userinfo.ts';
import {
  ACCESS_TOKEN_TTL_MS,
  lineage,
  MAX_ACCESS_TOKEN_TTL_MS,
  REFRESH_TOKEN_TTL_MS,
  type AccessToken,
  type RefreshToken,
} from './tokens.ts';
import { createUsers } from './users.ts';

export interface AuthServerConfig {
  /** This server's own URL, e.g. http://localhost:9001. */
  baseUrl: string;
  /** The client's URL; its redirect URI is registered under it. */
  clientUrl: string;
  /** The resource server's URL: the resource it is registered as (RFC 8707). */
  rsUrl: string;
  /** Access token lifetime; default ACCESS_TOKEN_TTL_MS (60 s), at most 5 minutes. */
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
    errorBody: unhandledError,
  });
  const { app } = lab;

  const clients = createClients(config.clientUrl, config.rsUrl);
  const resources = createResources(config.rsUrl);
  const users = createUsers();
  const now = config.now ?? Date.now;
  const keys = createSigningKeys(now);
  // RFC 8414 §2: the issuer is the AS's base URL, the `iss` of every token it signs.
  const signer = { keys, issuer: config.baseUrl, now };
  // A code lives 60 s, so even a flood of requests holds few at once; if this many are ever
  // waiting, new ones are refused (503) and none is dropped.
  const codes = new Store<CodeGrant>({
    ttlMs: CODE_TTL_MS,
    sweepMs: 10_000,
    maxEntries: 100_000,
    now: config.now,
  });
  const accessTokens = new Store<AccessToken>({
    ttlMs: Math.min(config.accessTokenTtlMs ?? ACCESS_TOKEN_TTL_MS, MAX_ACCESS_TOKEN_TTL_MS),
    maxEntries: 100_000,
    now: config.now,
  });
  // Rotated refresh tokens are kept until their family ends, to recognise reuse; one family
  // holds at most MAX_REFRESHES of them. When the store is full, new logins are refused (503).
  const refreshTokens = new Store<RefreshToken>({
    ttlMs: REFRESH_TOKEN_TTL_MS,
    maxEntries: 200_000,
    now: config.now,
  });
  // Remembered consent, one entry per user and client: bounded by the registries.
  const consents = new Store<string[]>({ ttlMs: Infinity });
  // One request waiting for consent per session; losing one to a flood only makes its form
  // fail (fail closed), so the oldest go first when there are too many.
  const pendingConsents = new Store<PendingConsent>({
    ttlMs: 10 * 60_000,
    whenFull: 'evict-oldest',
    now: config.now,
  });

  app.get('/', (req, res) => {
    res.render('home', {
      user: req.session.user,
      clients: [...clients.values()],
      clientUrl: config.clientUrl,
      resources: [...resources.values()],
      keys: keys.list(),
      lineage: lineage({ accessTokens, refreshTokens }),
      csrfToken: csrfToken(req),
    });
  });
  app.use(metadataRoutes({ issuer: config.baseUrl, keys }));
  const issuer = config.baseUrl;
  app.use(authorizeRoutes({ issuer, now, clients, resources, codes, consents, pendingConsents }));
  app.use(loginRoutes({ clients, users, now }));
  app.use(consentRoutes({ issuer, clients, codes, consents, pendingConsents }));
  app.use(logoutRoutes({ clients }));
  app.use(tokenRoutes({ clients, codes, accessTokens, refreshTokens, ...signer }));
  app.use(revokeRoutes({ clients, accessTokens, refreshTokens, ...signer }));
  app.use(introspectRoutes({ clients, resources, accessTokens, refreshTokens, ...signer }));
  app.use(userinfoRoutes({ users, accessTokens, refreshTokens, ...signer }));
  app.use(keyRotationRoutes({ keys }));

  lab.debug((req) => ({
    yourPendingConsent: pendingConsents.get(req.sessionID),
    clients: Object.fromEntries(clients),
    resources: Object.fromEntries(resources),
    users: Object.fromEntries(users),
    signingKeys: keys.list(),
    codes: codes.dump(),
    accessTokens: accessTokens.dump(),
    // Which token each exchanged token came from: revoking one revokes its subtree.
    lineage: lineage({ accessTokens, refreshTokens }),
    refreshTokens: refreshTokens.dump(),
    consents: consents.dump(),
    pendingConsents: pendingConsents.dump(),
  }));

  return {
    app: lab.finish(),
    close() {
      codes.close();
      accessTokens.close();
      refreshTokens.close();
      consents.close();
      pendingConsents.close();
      lab.close();
    },
  };
}

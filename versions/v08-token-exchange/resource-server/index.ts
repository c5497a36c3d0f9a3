// The resource server (RS): the notes API, on a process of its own. It knows no passwords and
// issues nothing: it checks the access tokens it is shown, and answers only what their scopes
// allow. Which AS it trusts, and that AS's keys and endpoints, it learns from the AS's metadata.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { csrfToken, requireCsrf } from '../../../shared/csrf.ts';
import { apiRoutes, createNotes, createProfiles } from './api.ts';
import { trustedAs } from './authorization-server.ts';
import { bearerGuard, type Decision } from './bearer.ts';
import { unhandledError } from './errors.ts';
import { introspectionValidator } from './introspection.ts';
import { localValidator } from './jwt.ts';
import { METADATA_PATH, metadataRoutes } from './metadata.ts';

export type ValidationMode = 'jwt' | 'introspection';

export interface ResourceServerConfig {
  /** This server's own URL, e.g. http://localhost:9002: also its resource identifier. */
  baseUrl: string;
  /** The issuer of the AS it trusts, e.g. http://localhost:9001. */
  asUrl: string;
  /** jwt: check tokens locally (default); introspection: ask the AS about every token. */
  validation?: ValidationMode;
  log?: boolean;
  now?: () => number;
}

// The most recent decisions kept for the home page; older ones go (a log, not state).
const DECISIONS_KEPT = 30;

export function createResourceServer(config: ResourceServerConfig) {
  const lab = createApp({
    role: 'rs',
    baseUrl: config.baseUrl,
    views: path.join(path.dirname(fileURLToPath(import.meta.url)), 'views'),
    log: config.log,
    now: config.now,
    errorBody: unhandledError,
  });
  const { app } = lab;

  // What the AS has on file for us (see auth-server/clients.ts and resources.ts).
  const credentials = { clientId: 'resource-server', clientSecret: 'resource-secret' };
  const now = config.now ?? Date.now;
  const as = trustedAs(config.asUrl);
  const audience = config.baseUrl;
  const validators = {
    jwt: localValidator({ as, audience, now }),
    introspection: introspectionValidator({ as, audience, ...credentials }),
  };
  let mode: ValidationMode = config.validation ?? 'jwt';
  const decisions: Decision[] = [];
  const resourceMetadata = `${config.baseUrl}${METADATA_PATH}`;
  const requireToken = bearerGuard({
    validate: (token) => validators[mode].validate(token),
    resourceMetadata,
    record: (decision) => {
      decisions.unshift(decision);
      decisions.length = Math.min(decisions.length, DECISIONS_KEPT);
    },
  });
  const profiles = createProfiles();
  const notes = createNotes();

  app.get('/', (req, res) => {
    res.render('home', {
      mode,
      asUrl: config.asUrl,
      resourceMetadata,
      keys: validators.jwt.keys(),
      decisions,
      csrfToken: csrfToken(req),
    });
  });
  // Switch the validation mode from the home page, to show the revocation trade-off live.
  app.post('/mode', requireCsrf, (req, res) => {
    const wanted = (req.body as Record<string, unknown> | undefined)?.mode;
    if (wanted === 'jwt' || wanted === 'introspection') mode = wanted;
    res.redirect(303, '/');
  });
  app.use(
    metadataRoutes({
      resource: config.baseUrl,
      authorizationServer: config.asUrl,
      scopes: ['profile', 'notes:read', 'notes:write'],
    }),
  );
  app.use(apiRoutes({ requireToken, profiles, notes }));

  lab.debug(() => ({
    config: {
      resource: config.baseUrl,
      trustedIssuer: config.asUrl,
      validation: mode,
      ...credentials,
    },
    keySet: validators.jwt.keys(),
    decisions,
    profiles: Object.fromEntries(profiles),
    notes: Object.fromEntries(notes),
  }));

  return {
    app: lab.finish(),
    close() {
      lab.close();
    },
  };
}

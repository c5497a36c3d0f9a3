// The client: a web app that wants to act for the user, so it sends them to the AS.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { queryOf, recordHop, startTranscript, transcriptOf } from '../../../shared/transcript.ts';

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
    /** The state of the flow this browser started, until its callback arrives. */
    oauthState?: string;
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
  const redirectUri = `${config.baseUrl}/callback`;

  app.get('/', (req, res) => {
    res.render('home', { hops: transcriptOf(req), asUrl: config.asUrl });
  });

  // Step 1: send the browser to the AS with an authorization request (RFC 6749 §4.1.1).
  app.get('/login', (req, res) => {
    const authorize = new URL('/authorize', config.asUrl);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);
    // RFC 6749 §10.12: an unguessable value bound to this browser's session. Only the browser
    // that started the flow can bring it back (256 bits from a CSPRNG, RFC 6749 §10.10).
    const state = randomBytes(32).toString('base64url');
    req.session.oauthState = state;
    authorize.searchParams.set('state', state);

    startTranscript(req);
    recordHop(req, {
      channel: 'front',
      path: 'Client → Browser → Authorization Server',
      title: 'Authorization request: the client redirects the browser to the AS',
      line: `302 Location: ${authorize.href}`,
      params: queryOf(authorize),
    });
    res.redirect(authorize.href);
  });

  // Step 2: the AS sends the browser back here with a code (RFC 6749 §4.1.2).
  app.get('/callback', (req, res) => {
    const url = new URL(req.originalUrl, config.baseUrl);
    const params = queryOf(url);
    recordHop(req, {
      channel: 'front',
      path: 'Authorization Server → Browser → Client',
      title: 'Authorization response: the AS redirects the browser back to the client',
      line: `GET ${url.pathname}${url.search}`,
      params,
    });
    const one = (name: string) => (typeof params[name] === 'string' ? params[name] : undefined);

    // The response must carry the state this browser sent (RFC 6749 §10.12; RFC 9700 §4.7.1).
    // It is used once: deleted whatever the outcome, so a replayed callback fails too.
    const expected = req.session.oauthState;
    delete req.session.oauthState;
    const stateProblem = !expected
      ? { code: 'no_login_in_progress', text: 'This browser has no login in progress here.' }
      : one('state') === undefined
        ? { code: 'missing_state', text: 'The callback has no state parameter.' }
        : one('state') !== expected
          ? { code: 'state_mismatch', text: 'The state is not the one this browser sent.' }
          : undefined;
    if (stateProblem) {
      res.status(400).render('callback', {
        stateProblem,
        code: one('code'),
        hops: transcriptOf(req),
      });
      return;
    }

    res.render('callback', {
      stateProblem: undefined,
      code: one('code'),
      error: one('error'),
      errorDescription: one('error_description'),
      hops: transcriptOf(req),
      asDebug: `${config.asUrl}/debug/state`,
    });
  });

  lab.debug(() => ({
    config: { clientId, redirectUri, authorizationServer: config.asUrl },
  }));

  return {
    app: lab.finish(),
    close() {
      lab.close();
    },
  };
}

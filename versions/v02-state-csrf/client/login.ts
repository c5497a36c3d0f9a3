// The client's side of the authorization code flow: /login sends the browser to the AS with
// an authorization request, /callback receives the answer.

import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import type { Store } from '../../../shared/store.ts';
import { queryOf, recordHop, startTranscript, transcriptOf } from '../../../shared/transcript.ts';

/** A login this browser started: what its callback must bring back. */
export interface PendingLogin {
  /** The state sent with the authorization request (RFC 6749 §10.12). */
  state: string;
  startedAt: string;
}

// lab: a login has 10 minutes to come back to the callback.
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;

interface Deps {
  /** This client's own URL and the AS's, e.g. http://localhost:9000 and :9001. */
  baseUrl: string;
  asUrl: string;
  clientId: string;
  redirectUri: string;
  /**
   * Logins under way, by session id. Kept on the server, not in the session: express-session
   * writes a whole session back at the end of every request, so two callbacks at once would
   * each find the state in their own copy. take() hands it to exactly one of them.
   */
  pendingLogins: Store<PendingLogin>;
}

export function loginRoutes({
  baseUrl,
  asUrl,
  clientId,
  redirectUri,
  pendingLogins,
}: Deps): Router {
  const router = Router();

  // Step 1: send the browser to the AS with an authorization request (RFC 6749 §4.1.1).
  router.get('/login', (req, res) => {
    // A new login starts from nothing: a new transcript.
    startTranscript(req);

    const authorize = new URL('/authorize', asUrl);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);
    // RFC 6749 §10.12: an unguessable value bound to this browser's session. Only the browser
    // that started the flow can bring it back (256 bits from a CSPRNG, RFC 6749 §10.10).
    const state = randomBytes(32).toString('base64url');
    authorize.searchParams.set('state', state);
    pendingLogins.set(req.sessionID, { state, startedAt: new Date().toISOString() });

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
  router.get('/callback', (req, res) => {
    const url = new URL(req.originalUrl, baseUrl);
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
    // It is used once: taken whatever the outcome, so a replayed callback fails too.
    const pending = pendingLogins.take(req.sessionID);
    const stateProblem = !pending
      ? { code: 'no_login_in_progress', text: 'This browser has no login in progress here.' }
      : one('state') === undefined
        ? { code: 'missing_state', text: 'The callback has no state parameter.' }
        : one('state') !== pending.state
          ? { code: 'state_mismatch', text: 'The state is not the one this browser sent.' }
          : undefined;
    if (!pending || stateProblem) {
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
      asDebug: `${asUrl}/debug/state`,
    });
  });

  return router;
}

// The client's side of the authorization code flow: /login sends the browser to the AS with
// an authorization request, /callback receives the answer.

import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { renewSession } from '../../../shared/session-store.ts';
import type { Store } from '../../../shared/store.ts';
import { queryOf, recordHop, startTranscript, transcriptOf } from '../../../shared/transcript.ts';
import { challengeFor, createVerifier } from './pkce.ts';
import { requestTokens, type Credentials, type TokenResponse } from './token-request.ts';

/** A login this browser started: what its callback must bring back. */
export interface PendingLogin {
  /** The state sent with the authorization request (RFC 6749 §10.12). */
  state: string;
  /** The PKCE code_verifier of that flow, sent only on the back channel (RFC 7636 §4.5). */
  verifier: string;
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
  /** What the token endpoint gave each logged-in browser, by session id. */
  tokens: Store<TokenResponse>;
  credentials: Credentials;
}

export function loginRoutes({
  baseUrl,
  asUrl,
  clientId,
  redirectUri,
  pendingLogins,
  tokens,
  credentials,
}: Deps): Router {
  const router = Router();

  // Step 1: send the browser to the AS with an authorization request (RFC 6749 §4.1.1).
  router.get('/login', (req, res) => {
    // A new login starts from nothing: the client forgets the tokens of an earlier one.
    tokens.delete(req.sessionID);
    startTranscript(req);

    const authorize = new URL('/authorize', asUrl);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);
    // RFC 6749 §10.12: an unguessable value bound to this browser's session. Only the browser
    // that started the flow can bring it back (256 bits from a CSPRNG, RFC 6749 §10.10).
    const state = randomBytes(32).toString('base64url');
    authorize.searchParams.set('state', state);
    // RFC 7636 §4.1-4.3: a one-time secret for this flow; the AS gets only its hash now.
    const verifier = createVerifier();
    authorize.searchParams.set('code_challenge', challengeFor(verifier));
    authorize.searchParams.set('code_challenge_method', 'S256');
    pendingLogins.set(req.sessionID, { state, verifier, startedAt: new Date().toISOString() });

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
  router.get('/callback', async (req, res) => {
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

    const code = one('code');
    if (!code) {
      res.render('callback', {
        stateProblem: undefined,
        tokenResult: undefined,
        error: one('error'),
        errorDescription: one('error_description'),
        hops: transcriptOf(req),
      });
      return;
    }

    // Step 3: redeem the code on the back channel, with the verifier (RFC 7636 §4.5).
    const tokenResult = await requestTokens(req, credentials, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: pending.verifier,
    });
    if (tokenResult.ok) {
      // Logged in: a new session id, so an id planted in this browser before (a page on
      // another localhost port can set a cookie here) does not now hold the tokens.
      await renewSession(req, { transcript: transcriptOf(req) });
      tokens.set(req.sessionID, tokenResult.tokens);
    }
    res.status(tokenResult.ok ? 200 : 400).render('callback', {
      stateProblem: undefined,
      tokenResult,
      code,
      error: undefined,
      errorDescription: undefined,
      hops: transcriptOf(req),
      asDebug: `${asUrl}/debug/state`,
    });
  });

  return router;
}

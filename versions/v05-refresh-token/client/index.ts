// The client: a web app that wants to act for the user, so it sends them to the AS.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { Store } from '../../../shared/store.ts';
import { queryOf, recordHop, startTranscript, transcriptOf } from '../../../shared/transcript.ts';
import { callApi, type ApiResult } from './api.ts';
import { challengeFor, createVerifier } from './pkce.ts';
import { callApiRefreshing, IN_FLIGHT_TTL_MS, refreshTokens, type InFlight } from './refresh.ts';
import { requestTokens, revokeToken, type TokenResponse } from './token-request.ts';

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
    /** The PKCE code_verifier of that flow, sent only on the back channel. */
    pkceVerifier?: string;
    /** What the token endpoint gave us. */
    tokens?: TokenResponse;
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
  const credentials = {
    tokenEndpoint,
    revocationEndpoint: `${config.asUrl}/revoke`,
    clientId,
    clientSecret,
  };
  // Refreshes under way, shared by concurrent requests (see refresh.ts).
  const inFlight: InFlight = new Store({ ttlMs: IN_FLIGHT_TTL_MS, now: config.now });
  // What this client asks the user to allow (RFC 6749 §3.3).
  const scope = 'profile notes:read notes:write';
  const api = (path: string) => `${config.asUrl}${path}`;

  app.get('/', async (req, res) => {
    // Logged in: read the user's notes through the API, refreshing the token if need be.
    const notes = req.session.tokens
      ? await callApiRefreshing(req, credentials, inFlight, 'GET', api('/api/notes'))
      : undefined;
    const { flash, loginAgain } = req.session;
    delete req.session.flash;
    delete req.session.loginAgain;
    res.render('home', {
      hops: transcriptOf(req),
      asUrl: config.asUrl,
      tokens: req.session.tokens,
      profile: req.session.profile,
      notes,
      flash,
      loginAgain,
    });
  });

  // Add a note for the user: a write through the API, which needs notes:write.
  app.post('/notes', async (req, res) => {
    if (!req.session.tokens) return res.redirect(303, '/');
    const text = typeof req.body?.text === 'string' ? req.body.text : '';
    req.session.flash = await callApiRefreshing(
      req,
      credentials,
      inFlight,
      'POST',
      api('/api/notes'),
      {
        text,
      },
    );
    res.redirect(303, '/');
  });

  // "Refresh now": what the client does by itself when the access token expires.
  app.post('/refresh', async (req, res) => {
    if (req.session.tokens) await refreshTokens(req, credentials, inFlight);
    res.redirect(303, '/');
  });

  // "Revoke": give up the refresh token, and with it every token of this grant (RFC 7009).
  // The tokens stay in this session on purpose, so the next page shows what happens to them.
  app.post('/revoke', async (req, res) => {
    const refreshToken = req.session.tokens?.refresh_token;
    if (refreshToken) await revokeToken(req, credentials, refreshToken, 'refresh_token');
    res.redirect(303, '/');
  });

  // Log out here, then offer the AS's own logout: two sessions, two servers. The refresh
  // token is revoked first, so it is worthless to anyone who copied it.
  app.post('/logout', async (req, res, next) => {
    const refreshToken = req.session.tokens?.refresh_token;
    if (refreshToken) await revokeToken(req, credentials, refreshToken, 'refresh_token');
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie('client.sid');
      res.redirect(303, `${config.asUrl}/logout?client_id=${clientId}`);
    });
  });

  // Step 1: send the browser to the AS with an authorization request (RFC 6749 §4.1.1).
  app.get('/login', (req, res) => {
    const authorize = new URL('/authorize', config.asUrl);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);
    authorize.searchParams.set('scope', scope);
    // RFC 6749 §10.12: an unguessable value bound to this browser's session. Only the browser
    // that started the flow can bring it back (256 bits from a CSPRNG, RFC 6749 §10.10).
    const state = randomBytes(32).toString('base64url');
    req.session.oauthState = state;
    authorize.searchParams.set('state', state);
    // RFC 7636 §4.1-4.3: a one-time secret for this flow; the AS gets only its hash now.
    const verifier = createVerifier();
    req.session.pkceVerifier = verifier;
    authorize.searchParams.set('code_challenge', challengeFor(verifier));
    authorize.searchParams.set('code_challenge_method', 'S256');

    // A new login starts from nothing: the client forgets the tokens of an earlier one.
    delete req.session.tokens;
    delete req.session.profile;
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
  app.get('/callback', async (req, res) => {
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
    const verifier = req.session.pkceVerifier;
    delete req.session.oauthState;
    delete req.session.pkceVerifier;
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

    const code = one('code');
    if (!code || !verifier) {
      res.render('callback', {
        stateProblem: undefined,
        tokenResult: undefined,
        code,
        error: one('error'),
        errorDescription: one('error_description'),
        hops: transcriptOf(req),
        asDebug: `${config.asUrl}/debug/state`,
      });
      return;
    }

    // Step 3: redeem the code on the back channel, with the verifier (RFC 7636 §4.5).
    const tokenResult = await requestTokens(req, credentials, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    let me: ApiResult | undefined;
    if (tokenResult.ok) {
      req.session.tokens = tokenResult.tokens;
      // Step 4: use the token. Who is this user? (needs the profile scope)
      me = await callApi(req, tokenResult.tokens.access_token, 'GET', api('/api/me'));
      if (me.ok) req.session.profile = me.body;
    }
    res.status(tokenResult.ok ? 200 : 400).render('callback', {
      me,
      stateProblem: undefined,
      tokenResult,
      code,
      error: undefined,
      errorDescription: undefined,
      hops: transcriptOf(req),
      asDebug: `${config.asUrl}/debug/state`,
    });
  });

  lab.debug(() => ({
    config: {
      clientId,
      clientSecret,
      redirectUri,
      authorizationServer: config.asUrl,
      tokenEndpoint,
    },
  }));

  return {
    app: lab.finish(),
    close() {
      inFlight.close();
      lab.close();
    },
  };
}

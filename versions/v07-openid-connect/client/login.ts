// The client's side of the authorization code flow: /login sends the browser to the AS with
// an authorization request, /callback receives the answer. With OpenID Connect, the callback
// also learns who logged in: from the id_token, checked, and from /userinfo.

import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import type { JWK, JWTPayload } from 'jose';
import { renewSession } from '../../../shared/session-store.ts';
import type { Store } from '../../../shared/store.ts';
import { queryOf, recordHop, startTranscript, transcriptOf } from '../../../shared/transcript.ts';
import { callApi, type ApiResult } from './api.ts';
import { backChannel } from './back-channel.ts';
import { discover, DiscoveryError, type AuthorizationServer } from './discovery.ts';
import { IdTokenError, validateIdToken } from './id-token.ts';
import { describeJwt } from './jwt-view.ts';
import { challengeFor, createVerifier } from './pkce.ts';
import {
  requestTokens,
  revokeToken,
  type Credentials,
  type TokenResponse,
} from './token-request.ts';

/** A login this browser started: what its callback must bring back. */
export interface PendingLogin {
  /** The state sent with the authorization request (RFC 6749 §10.12). */
  state: string;
  /** The PKCE code_verifier of that flow, sent only on the back channel (RFC 7636 §4.5). */
  verifier: string;
  /** The nonce the id_token must carry (OpenID Connect Core §3.1.2.1). */
  nonce: string;
  /** The AS this login went to: the `iss` its response must name (RFC 9207 §2.4). */
  issuer: string;
  /** That AS's endpoints, as discovered at /login: the code goes to its token endpoint only. */
  endpoints: Pick<
    AuthorizationServer,
    'tokenEndpoint' | 'revocationEndpoint' | 'jwksUri' | 'userinfoEndpoint'
  >;
  /** Whether that AS promised `iss` in its responses (RFC 9207 §3). */
  issRequired: boolean;
  /** The max_age this login asked for, if any. */
  maxAge: number | undefined;
  startedAt: string;
}

// lab: a login has 10 minutes to come back to the callback.
export const PENDING_LOGIN_TTL_MS = 10 * 60_000;

interface Deps {
  /** This client's own URL and the API's, e.g. http://localhost:9000 and :9002. */
  baseUrl: string;
  rsUrl: string;
  /** What the client knows of the AS: filled in by discovery at every login. */
  as: AuthorizationServer;
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
  /** What this client asks the user to allow (RFC 6749 §3.3). */
  scope: string;
  /** The URL of an API path, e.g. /api/me. */
  api: (path: string) => string;
  now: () => number;
}

export function loginRoutes({
  baseUrl,
  rsUrl,
  as,
  clientId,
  redirectUri,
  pendingLogins,
  tokens,
  credentials,
  scope,
  api,
  now,
}: Deps): Router {
  const router = Router();

  // Step 1: send the browser to the AS with an authorization request (RFC 6749 §4.1.1).
  // /login?prompt=login and /login?max_age=N ask the AS for a fresh login (Core §3.1.2.1).
  router.get('/login', async (req, res) => {
    const query = req.query as Record<string, unknown>;
    const prompt = query.prompt === 'login' ? 'login' : undefined;
    const maxAge =
      typeof query.max_age === 'string' && /^\d{1,6}$/.test(query.max_age)
        ? Number(query.max_age)
        : undefined;
    // A new login starts from nothing: the client forgets the tokens of an earlier one.
    tokens.delete(req.sessionID);
    delete req.session.profile;
    delete req.session.signedIn;
    startTranscript(req);

    // Step 0: from the API's URL to the AS's endpoints (discovery.ts). lab: at every login,
    // so the transcript always shows how; a real client keeps what it found for a while.
    try {
      Object.assign(as, await discover(req, rsUrl));
    } catch (err) {
      if (!(err instanceof DiscoveryError)) throw err;
      res.status(502).render('error', {
        title: 'Discovery failed',
        error: 'discovery_failed',
        description: err.message,
        explain:
          'The client cannot tell where to send you to log in. The transcript is on the home page.',
      });
      return;
    }
    credentials.tokenEndpoint = as.tokenEndpoint;
    credentials.revocationEndpoint = as.revocationEndpoint;

    const authorize = new URL(as.authorizationEndpoint);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);
    authorize.searchParams.set('scope', scope);
    // RFC 8707 §2: the API the token is for; the AS puts it in the token's `aud`.
    authorize.searchParams.set('resource', rsUrl);
    // RFC 6749 §10.12: an unguessable value bound to this browser's session. Only the browser
    // that started the flow can bring it back (256 bits from a CSPRNG, RFC 6749 §10.10).
    const state = randomBytes(32).toString('base64url');
    authorize.searchParams.set('state', state);
    // RFC 7636 §4.1-4.3: a one-time secret for this flow; the AS gets only its hash now.
    const verifier = createVerifier();
    authorize.searchParams.set('code_challenge', challengeFor(verifier));
    authorize.searchParams.set('code_challenge_method', 'S256');
    // OpenID Connect Core §3.1.2.1, §15.5.2: a one-time value the id_token must carry back, so an
    // id_token from any other login is refused here. lab: always sent (optional in this flow).
    const nonce = randomBytes(32).toString('base64url');
    authorize.searchParams.set('nonce', nonce);
    if (prompt) authorize.searchParams.set('prompt', prompt);
    if (maxAge !== undefined) authorize.searchParams.set('max_age', String(maxAge));
    pendingLogins.set(req.sessionID, {
      state,
      verifier,
      nonce,
      issuer: as.issuer,
      endpoints: {
        tokenEndpoint: as.tokenEndpoint,
        revocationEndpoint: as.revocationEndpoint,
        jwksUri: as.jwksUri,
        userinfoEndpoint: as.userinfoEndpoint,
      },
      issRequired: as.issParameterSupported,
      maxAge,
      startedAt: new Date().toISOString(),
    });

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

    // RFC 9207 §2.4: the response names the AS that sent it, and it must be the one this login
    // went to. Otherwise an attacker's AS may have been answered with this AS's code (mix-up,
    // RFC 9700 §4.4). An AS that promised `iss` and left it out is refused too.
    const iss = one('iss');
    if (iss !== pending.issuer && (iss !== undefined || pending.issRequired)) {
      const description =
        iss === undefined
          ? `The response has no iss, though ${pending.issuer} promised one (RFC 9207 §2.4).`
          : `The response names the issuer ${iss}, but this login went to ${pending.issuer} (RFC 9207 §2.4).`;
      res.status(400).render('error', {
        title: 'Callback refused',
        error: 'issuer_mismatch',
        description,
        explain:
          'The code was not redeemed: sending it to the token endpoint of the wrong server is what a mix-up attack wants. The transcript is on the home page.',
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
    // Redeemed where the issuer this login went to takes codes (RFC 9700 §4.4.2), not wherever
    // the latest discovery pointed.
    const { tokenEndpoint, revocationEndpoint } = pending.endpoints;
    const redeemAt = { ...credentials, tokenEndpoint, revocationEndpoint };
    const tokenResult = await requestTokens(req, redeemAt, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: pending.verifier,
      resource: rsUrl,
    });
    let me: ApiResult | undefined;
    let signedIn: SignedIn | undefined;
    if (tokenResult.ok) {
      // Step 3b: who logged in? Only a checked id_token says, and only then is anyone logged in.
      try {
        signedIn = await checkLogin(req, tokenResult.tokens, pending);
      } catch (err) {
        if (!(err instanceof IdTokenError)) throw err;
        // Tokens nobody will use: the refresh token is revoked, so they die at the AS too.
        const { refresh_token: refresh } = tokenResult.tokens;
        if (refresh) await revokeToken(req, redeemAt, refresh, 'refresh_token');
        res.status(400).render('error', {
          title: 'Login refused: the id_token failed a check',
          error: `invalid_id_token (${err.check})`,
          description: err.message,
          explain:
            'The client received tokens but will not use them: without a valid id_token it cannot tell who logged in (OpenID Connect Core §3.1.3.7). The transcript is on the home page.',
        });
        return;
      }
      // Logged in: a new session id, so an id planted in this browser before (a page on
      // another localhost port can set a cookie here) does not now hold the tokens.
      await renewSession(req, { transcript: transcriptOf(req), signedIn });
      tokens.set(req.sessionID, tokenResult.tokens);
      // Step 4: use the token. Who is this user? (needs the profile scope)
      me = await callApi(req, tokenResult.tokens.access_token, 'GET', api('/api/me'));
      if (me.ok) req.session.profile = me.body;
    }
    res.status(tokenResult.ok ? 200 : 400).render('callback', {
      me,
      signedIn,
      idToken: signedIn ? describeJwt(signedIn.idToken, 'id') : undefined,
      jwt: tokenResult.ok ? describeJwt(tokenResult.tokens.access_token) : undefined,
      stateProblem: undefined,
      tokenResult,
      code,
      error: undefined,
      errorDescription: undefined,
      hops: transcriptOf(req),
      asDebug: `${as.issuer}/debug/state`,
    });
  });

  /**
   * OpenID Connect: check the id_token against the AS's keys and this login (id-token.ts),
   * then read /userinfo, whose `sub` must be the id_token's (Core §5.3.2).
   */
  async function checkLogin(
    req: Request,
    tokenResponse: TokenResponse,
    pending: PendingLogin,
  ): Promise<SignedIn> {
    const idToken = tokenResponse.id_token;
    if (!idToken) throw new IdTokenError('missing', 'The token response has no id_token.');
    const jwks = await backChannel(req, {
      method: 'GET',
      url: pending.endpoints.jwksUri,
      headers: {},
      to: 'Authorization Server',
      titles: {
        request: 'The client fetches the AS’s public keys, to check the id_token',
        ok: 'The AS’s public keys (JWKS)',
        failed: 'The AS’s public keys could not be read',
      },
    });
    const keys = Array.isArray(jwks.body.keys) ? (jwks.body.keys as JWK[]) : [];
    const claims = await validateIdToken(idToken, {
      issuer: pending.issuer,
      clientId,
      keys,
      nonce: pending.nonce,
      accessToken: tokenResponse.access_token,
      maxAge: pending.maxAge,
      now,
    });
    const userinfo = await backChannel(req, {
      method: 'GET',
      url: pending.endpoints.userinfoEndpoint,
      headers: { Authorization: `Bearer ${tokenResponse.access_token}` },
      to: 'Authorization Server',
      titles: {
        request: 'UserInfo request: the client asks the AS about the user (OpenID Connect)',
        ok: 'UserInfo response: the claims the scopes allow',
        failed: 'UserInfo error response',
      },
    });
    if (!userinfo.ok || userinfo.body.sub !== claims.sub) {
      throw new IdTokenError(
        'userinfo',
        'The userinfo response is not about the user the id_token names (Core §5.3.2).',
      );
    }
    return { idToken, claims, userinfo: userinfo.body };
  }

  return router;
}

/** Who logged in, as the client may rely on it: from a checked id_token and /userinfo. */
export interface SignedIn {
  idToken: string;
  claims: JWTPayload;
  userinfo: Record<string, unknown>;
}

declare module 'express-session' {
  interface SessionData {
    signedIn?: SignedIn;
  }
}

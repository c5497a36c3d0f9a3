// GET /authorize: the front door of the authorization code flow (RFC 6749 §4.1.1).

import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import type { Client } from './clients.ts';
import { OAuthError, oneParam, redirectError, showError } from './errors.ts';
import { readChallenge } from './pkce.ts';
import { readResources, type Resource } from './resources.ts';
import { consentKey, parseScope } from './scopes.ts';

export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  username: string;
  /** The scopes the user granted, space-separated. */
  scope: string;
  /** The resources the tokens may be used at (RFC 8707): their audience. */
  resources: string[];
  /** RFC 7636 §4.4: the S256 challenge, checked against the verifier at the token endpoint. */
  codeChallenge: string;
  /** OpenID Connect Core §3.1.2.1: the client's nonce, copied into the id_token. */
  nonce: string | undefined;
  /** When the user logged in (seconds since 1970): the id_token's `auth_time`. */
  authTime: number;
  issuedAt: string;
  /** Set at the first redemption; a second one is a replay (RFC 6749 §4.1.2). */
  usedAt?: string;
}

// lab: 60 s (RFC 6749 §4.1.2 allows up to 10 minutes) so a class can watch a code expire.
export const CODE_TTL_MS = 60_000;

declare module 'express-session' {
  interface SessionData {
    /** The /authorize URL the AS paused to ask the user to log in, resumed after login. */
    pendingAuthorize?: string;
    /** The paused request a login just happened for: a fresh login, as prompt=login asks. */
    freshLoginFor?: string;
    user?: { username: string; loggedInAt: string };
  }
}

/** An authorization request that passed every check, ready for consent and a code. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  resources: string[];
  state: string | undefined;
  codeChallenge: string;
  nonce: string | undefined;
}

/** A checked request waiting for the user's decision on /consent, and the id of its form. */
export type PendingConsent = AuthorizationRequest & { id: string };

interface Deps {
  /** This AS's issuer: the `iss` of every authorization response (RFC 9207). */
  issuer: string;
  now: () => number;
  clients: Map<string, Client>;
  resources: Map<string, Resource>;
  codes: Store<CodeGrant>;
  /** Scopes each user has granted each client, by consentKey(). */
  consents: Store<string[]>;
  /** Requests waiting for consent, by session id (see consent.ts). */
  pendingConsents: Store<PendingConsent>;
}

export function authorizeRoutes({
  issuer,
  now,
  clients,
  resources: registered,
  codes,
  consents,
  pendingConsents,
}: Deps): Router {
  const router = Router();

  router.get('/authorize', (req, res) => {
    const query = req.query as Record<string, unknown>;
    let client: Client, redirectUri: string;
    try {
      ({ client, redirectUri } = checkClientAndRedirectUri(query, clients));
    } catch (err) {
      if (err instanceof OAuthError) return showError(res, err, untrusted(query));
      throw err;
    }
    // OpenID Connect Core §3.1.2.1: prompt=login and max_age ask for a fresh login;
    // prompt=consent for the consent page even when consent is remembered; prompt=none for no
    // page at all. Read first: they decide whether the user logs in now.
    let login: LoginRequest;
    try {
      login = readLoginRequest(query);
    } catch (err) {
      const state = typeof query.state === 'string' ? query.state : undefined;
      if (err instanceof OAuthError) return redirectError(res, redirectUri, err, state, issuer);
      throw err;
    }
    const { user } = req.session;
    const fresh = req.session.freshLoginFor === req.originalUrl;
    const age = user ? (now() - Date.parse(user.loggedInAt)) / 1000 : Infinity;
    // max_age=0 is prompt=login (Core §3.1.2.1), hence >=.
    const tooOld = login.maxAge !== undefined && age >= login.maxAge;
    // Not logged in, or not freshly enough: remember this exact request in the AS session, log
    // the user in, then come back to it. The client never sees the password. Log in comes
    // before any other check but those of prompt and max_age above, so nobody is bounced to a
    // client without a login (RFC 9700 §4.11.2).
    if (!user || ((login.prompt === 'login' || tooOld) && !fresh)) {
      if (login.prompt === 'none') {
        const err = new OAuthError('login_required', 'prompt=none, and the user must log in.');
        return redirectError(res, redirectUri, err, login.state, issuer);
      }
      req.session.pendingAuthorize = req.originalUrl;
      return res.redirect('/login');
    }
    delete req.session.pendingAuthorize;
    delete req.session.freshLoginFor;

    // The client's state comes back unchanged, on success and on error (RFC 6749 §4.1.2).
    let scopes: string[], resources: string[], state: string | undefined, codeChallenge: string;
    try {
      state = oneParam(query, 'state');
      checkResponseType(query);
      scopes = parseScope(oneParam(query, 'scope'));
      // lab: no resource asked for means every registered one (there is one: the notes API).
      resources = readResources(query, [...registered.keys()]);
      codeChallenge = readChallenge(query);
    } catch (err) {
      // RFC 6749 §4.1.2.1: the redirect_uri is trusted now, so the client hears of the error.
      if (err instanceof OAuthError) return redirectError(res, redirectUri, err, state, issuer);
      throw err;
    }

    // The user decides what this client may do. Asked once per client: a later request for
    // scopes already granted goes straight through.
    const request = {
      clientId: client.clientId,
      redirectUri,
      scopes,
      resources,
      state,
      codeChallenge,
      nonce: login.nonce,
    };
    const granted = consents.get(consentKey(user.username, client.clientId)) ?? [];
    if (login.prompt !== 'consent' && scopes.every((scope) => granted.includes(scope))) {
      return issueCode(req, res, codes, request, issuer);
    }
    if (login.prompt === 'none') {
      const err = new OAuthError('consent_required', 'prompt=none, and the user must consent.');
      return redirectError(res, redirectUri, err, state, issuer);
    }
    // The id ties the consent form to this request: a form shown for an earlier request (for
    // another client, say) cannot approve this one.
    pendingConsents.set(req.sessionID, { ...request, id: randomBytes(16).toString('base64url') });
    res.redirect('/consent');
  });

  return router;
}

/** Issue a code for a consented request and send the browser back to the client. */
export function issueCode(
  req: Request,
  res: Response,
  codes: Store<CodeGrant>,
  { clientId, redirectUri, scopes, resources, state, codeChallenge, nonce }: AuthorizationRequest,
  issuer: string,
) {
  const { username, loggedInAt } = req.session.user!;
  // The code is a one-time claim check, not the key: a random handle to this grant.
  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const code = randomBytes(32).toString('base64url');
  codes.set(code, {
    clientId,
    redirectUri,
    username,
    scope: scopes.join(' '),
    resources,
    codeChallenge,
    nonce,
    authTime: Math.floor(Date.parse(loggedInAt) / 1000),
    issuedAt: new Date().toISOString(),
  });

  // RFC 6749 §4.1.2: back to the registered URI, keeping any query it already has. RFC 9207
  // §2: with this AS's issuer, so a client that talks to several ASes knows which one it was.
  const location = new URL(redirectUri);
  location.searchParams.set('code', code);
  if (state !== undefined) location.searchParams.set('state', state);
  location.searchParams.set('iss', issuer);
  res.redirect(location.href);
}

/** What an OpenID Connect request says about the login (Core §3.1.2.1). */
interface LoginRequest {
  prompt: 'login' | 'consent' | 'none' | undefined;
  /** Seconds: the user must have logged in at most this long ago. */
  maxAge: number | undefined;
  nonce: string | undefined;
  state: string | undefined;
}

function readLoginRequest(query: Record<string, unknown>): LoginRequest {
  const state = oneParam(query, 'state');
  const prompt = oneParam(query, 'prompt');
  // lab: `select_account` is not supported (one account per browser); say so, not ignore it.
  if (prompt !== undefined && prompt !== 'login' && prompt !== 'consent' && prompt !== 'none') {
    throw new OAuthError(
      'invalid_request',
      'This server supports prompt=login, prompt=consent and prompt=none.',
    );
  }
  const maxAgeParam = oneParam(query, 'max_age');
  if (maxAgeParam !== undefined && !/^\d{1,9}$/.test(maxAgeParam)) {
    throw new OAuthError('invalid_request', 'max_age is a number of seconds.');
  }
  const nonce = oneParam(query, 'nonce');
  // lab: a nonce is the client's random value; a bound keeps junk out of the id_token.
  if (nonce !== undefined && nonce.length > 256) {
    throw new OAuthError('invalid_request', 'The nonce is longer than 256 characters.');
  }
  return {
    prompt,
    maxAge: maxAgeParam === undefined ? undefined : Number(maxAgeParam),
    nonce,
    state,
  };
}

/**
 * Check client_id, then redirect_uri, before anything else (RFC 9700 §2.1, §4.1.3). Until
 * both are known good we must not redirect anywhere: an attacker could otherwise use the AS
 * as an open redirector (RFC 6749 §4.1.2.1, §10.15).
 */
function checkClientAndRedirectUri(query: Record<string, unknown>, clients: Map<string, Client>) {
  const clientId = oneParam(query, 'client_id');
  if (!clientId) throw new OAuthError('invalid_request', 'The client_id parameter is missing.');
  const client = clients.get(clientId);
  // Not invalid_client: that code belongs to the token endpoint (RFC 6749 §5.2).
  if (!client) throw new OAuthError('invalid_request', 'The client_id is not registered here.');

  // lab: redirect_uri is required even with one registered URI (RFC 6749 §3.1.2.3 lets it be
  // optional; OpenID Connect Core §3.1.2.1 does not), so every request says where it goes.
  const redirectUri = oneParam(query, 'redirect_uri');
  if (!redirectUri)
    throw new OAuthError('invalid_request', 'The redirect_uri parameter is missing.');
  // Exact string comparison: no prefix match, no normalisation (RFC 9700 §2.1).
  if (!client.redirectUris.includes(redirectUri)) {
    throw new OAuthError('invalid_request', `The redirect_uri is not registered for ${clientId}.`);
  }
  return { client, redirectUri };
}

function checkResponseType(query: Record<string, unknown>) {
  const responseType = oneParam(query, 'response_type');
  if (!responseType)
    throw new OAuthError('invalid_request', 'The response_type parameter is missing.');
  if (responseType !== 'code') {
    throw new OAuthError(
      'unsupported_response_type',
      'This server only supports response_type=code.',
    );
  }
}

const TITLE = 'Authorization request refused';

/** The page for a request whose client or redirect_uri is not known good. */
function untrusted(query: Record<string, unknown>) {
  const sent = (name: string) => (query[name] === undefined ? 'none' : `"${String(query[name])}"`);
  return {
    title: TITLE,
    explain:
      `This request's client_id was ${sent('client_id')} and its redirect_uri ` +
      `${sent('redirect_uri')}. The authorization server shows this page itself instead of ` +
      'redirecting you, because it cannot be sure the redirect_uri belongs to a registered ' +
      'client (RFC 6749 §4.1.2.1).',
  };
}

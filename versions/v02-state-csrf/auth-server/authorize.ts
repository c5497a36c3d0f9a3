// GET /authorize: the front door of the authorization code flow (RFC 6749 §4.1.1).

import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import type { Client } from './clients.ts';
import { OAuthError, oneParam, redirectError, showError } from './errors.ts';

export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  username: string;
  scope: string | undefined;
  issuedAt: string;
}

// lab: 60 s (RFC 6749 §4.1.2 allows up to 10 minutes) so a class can watch a code expire.
export const CODE_TTL_MS = 60_000;

declare module 'express-session' {
  interface SessionData {
    /** The /authorize URL the AS paused to ask the user to log in, resumed after login. */
    pendingAuthorize?: string;
    user?: { username: string; loggedInAt: string };
  }
}

/** An authorization request that passed every check, ready for a code. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scope: string | undefined;
  state: string | undefined;
}

interface Deps {
  clients: Map<string, Client>;
  codes: Store<CodeGrant>;
}

export function authorizeRoutes({ clients, codes }: Deps): Router {
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
    // Not logged in: remember this exact request in the AS session, log the user in, then
    // come back to it. The client never sees the password. Log in comes before any other
    // check, so nobody is bounced to a client without a login (RFC 9700 §4.11.2).
    if (!req.session.user) {
      req.session.pendingAuthorize = req.originalUrl;
      return res.redirect('/login');
    }
    delete req.session.pendingAuthorize;

    // The client's state comes back unchanged, on success and on error (RFC 6749 §4.1.2).
    let scope: string | undefined, state: string | undefined;
    try {
      state = oneParam(query, 'state');
      checkResponseType(query);
      scope = oneParam(query, 'scope');
    } catch (err) {
      // RFC 6749 §4.1.2.1: the redirect_uri is trusted now, so the client hears of the error.
      if (err instanceof OAuthError) return redirectError(res, redirectUri, err, state);
      throw err;
    }

    const request = {
      clientId: client.clientId,
      redirectUri,
      scope,
      state,
    };
    issueCode(req, res, codes, request);
  });

  return router;
}

/** Issue a code for a checked request and send the browser back to the client. */
export function issueCode(
  req: Request,
  res: Response,
  codes: Store<CodeGrant>,
  { clientId, redirectUri, scope, state }: AuthorizationRequest,
) {
  // The code is a one-time claim check, not the key: a random handle to this grant.
  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const code = randomBytes(32).toString('base64url');
  codes.set(code, {
    clientId,
    redirectUri,
    username: req.session.user!.username,
    scope,
    issuedAt: new Date().toISOString(),
  });

  // RFC 6749 §4.1.2: back to the registered URI, keeping any query it already has.
  const location = new URL(redirectUri);
  location.searchParams.set('code', code);
  if (state !== undefined) location.searchParams.set('state', state);
  res.redirect(location.href);
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

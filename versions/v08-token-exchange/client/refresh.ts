// Staying logged in: when the API says the access token is no good any more, trade the
// refresh token for fresh tokens and try once more (RFC 6749 §6; RFC 6750 §3.1). The user
// never sees it happen, except in the transcript.

import type { Request } from 'express';
import type { Store } from '../../../shared/store.ts';
import { callApi, type ApiResult } from './api.ts';
import {
  requestTokens,
  type Credentials,
  type TokenResponse,
  type TokenResult,
} from './token-request.ts';

declare module 'express-session' {
  interface SessionData {
    /** Why the client had to forget its tokens: the user must log in again. */
    loginAgain?: string;
  }
}

/**
 * Recent refreshes, by the refresh token they used, kept a few seconds. Two tabs that find
 * the access token expired at about the same moment must share one refresh: the second tab
 * still holds the old refresh token, and using it again would look like theft to the AS.
 */
export type InFlight = Store<Promise<TokenResult>>;
export const IN_FLIGHT_TTL_MS = 10_000;

export interface Refreshing {
  credentials: Credentials;
  /** Each logged-in browser's tokens, by session id. */
  tokens: Store<TokenResponse>;
  inFlight: InFlight;
}

/** Use the refresh token now. If the AS refuses it, the tokens are forgotten: log in again. */
export async function refreshTokens(
  req: Request,
  { credentials, tokens, inFlight }: Refreshing,
): Promise<TokenResult> {
  const refreshToken = tokens.get(req.sessionID)?.refresh_token;
  if (!refreshToken) {
    return { ok: false, error: 'no_refresh_token', description: 'There is no refresh token.' };
  }
  let pending = inFlight.get(refreshToken);
  if (!pending) {
    const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
    pending = requestTokens(req, credentials, form);
    inFlight.set(refreshToken, pending);
  }
  const result = await pending;
  if (result.ok) {
    // Rotation: the new refresh token replaces the old one, which the AS now refuses. Straight
    // into the store, so a request still running with the old tokens cannot write them back.
    if (tokens.get(req.sessionID)?.refresh_token === refreshToken) {
      tokens.set(req.sessionID, result.tokens);
    }
    return result;
  }
  // Only successes are shared: a failed refresh may be tried again at once.
  inFlight.delete(refreshToken);
  if (result.error === 'invalid_grant') {
    // RFC 6749 §5.2: the refresh token is dead (expired, revoked, or reused). A network
    // failure or a server error says nothing about it, so those keep the tokens.
    tokens.delete(req.sessionID);
    delete req.session.profile;
    req.session.loginAgain = `${result.error}: ${result.description ?? ''}`;
  }
  return result;
}

/** Call the API; on 401 invalid_token, refresh and retry once. */
export async function callApiRefreshing(
  req: Request,
  refreshing: Refreshing,
  method: 'GET' | 'POST',
  url: string,
  form?: Record<string, string>,
): Promise<ApiResult | undefined> {
  const mine = refreshing.tokens.get(req.sessionID);
  if (!mine) return undefined;
  const first = await callApi(req, mine.access_token, method, url, form);
  // Only invalid_token means a new token could help; a 403 insufficient_scope would not.
  if (first.status !== 401 || !/error="invalid_token"/.test(first.wwwAuthenticate ?? '')) {
    return first;
  }
  const refreshed = await refreshTokens(req, refreshing);
  if (!refreshed.ok) return first;
  return callApi(req, refreshed.tokens.access_token, method, url, form);
}

// Staying logged in: when the API says the access token is no good any more, trade the
// refresh token for fresh tokens and try once more (RFC 6749 §6; RFC 6750 §3.1). The user
// never sees it happen, except in the transcript.

import type { Request } from 'express';
import { callApi, type ApiResult } from './api.ts';
import { requestTokens, type Credentials, type TokenResult } from './token-request.ts';

declare module 'express-session' {
  interface SessionData {
    /** Why the client had to forget its tokens: the user must log in again. */
    loginAgain?: string;
  }
}

/** Use the refresh token now. On failure the tokens are forgotten: log in again. */
export async function refreshTokens(req: Request, credentials: Credentials): Promise<TokenResult> {
  const refreshToken = req.session.tokens?.refresh_token;
  const result = refreshToken
    ? await requestTokens(req, credentials, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      })
    : ({
        ok: false,
        error: 'no_refresh_token',
        description: 'There is no refresh token.',
      } as const);
  if (result.ok) {
    // Rotation: the new refresh token replaces the old one, which the AS now refuses.
    req.session.tokens = result.tokens;
  } else {
    delete req.session.tokens;
    delete req.session.profile;
    req.session.loginAgain = `${result.error}: ${result.description ?? ''}`;
  }
  return result;
}

/** Call the API; on 401 invalid_token, refresh and retry once. */
export async function callApiRefreshing(
  req: Request,
  credentials: Credentials,
  method: 'GET' | 'POST',
  url: string,
  form?: Record<string, string>,
): Promise<ApiResult> {
  const first = await callApi(req, req.session.tokens!.access_token, method, url, form);
  // Only invalid_token means a new token could help; a 403 insufficient_scope would not.
  if (first.status !== 401 || !/error="invalid_token"/.test(first.wwwAuthenticate ?? '')) {
    return first;
  }
  const refreshed = await refreshTokens(req, credentials);
  if (!refreshed.ok) return first;
  return callApi(req, refreshed.tokens.access_token, method, url, form);
}

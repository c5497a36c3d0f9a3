// The AS's back-channel endpoints as a client uses them, for the tests and the attack script:
// get a fresh code, POST to /token (or /revoke), and get a token response for a user in one go.

import request from 'supertest';
import type { RunningLab } from '../../shared/lab.ts';
import {
  authorizeUrl,
  locationParams,
  loggedInBrowser,
  TEST_VERIFIER,
  throughConsent,
} from './flow.ts';

export const DEMO = { id: 'demo-client', secret: 'demo-secret' };
export const OTHER = { id: 'other-client', secret: 'other:secret%' };
/** A registered client that may not use the authorization_code grant. */
export const BATCH = { id: 'batch-job', secret: 'batch-secret' };

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  /** v05+. */
  refresh_token?: string;
}

/**
 * A fresh code for demo-client: `username` (default user0) logs in at the AS and consents to
 * an authorization request with `overrides` (see authorizeUrl), issued for TEST_CHALLENGE
 * unless overridden.
 */
export async function freshCode(
  lab: RunningLab<'as' | 'client'>,
  overrides: Record<string, string | undefined> = {},
  username = 'user0',
): Promise<string> {
  const browser = await loggedInBrowser(lab, username);
  const page = await throughConsent(browser, await browser.get(authorizeUrl(lab, overrides)));
  const code = locationParams(page).get('code');
  if (!code) throw new Error(`no code: ${page.location}`);
  return code;
}

/**
 * Log in as `username` (default user0), consent to `scope` (default: none asked for, so the
 * AS's default), and redeem the code: the token response.
 */
export async function tokensFor(
  lab: RunningLab<'as' | 'client'>,
  { scope, username }: { scope?: string; username?: string } = {},
): Promise<TokenResponse> {
  const response = await postToken(lab, codeForm(lab, await freshCode(lab, { scope }, username)));
  if (response.status !== 200) {
    throw new Error(`token request refused: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body as TokenResponse;
}

/** POST /token with the refresh_token grant (RFC 6749 §6) and any `extra` parameters. */
export function postRefresh(
  lab: RunningLab<'as'>,
  refreshToken: string,
  extra: Record<string, string> = {},
) {
  return postToken(lab, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
}

/** RFC 6749 §2.3.1: Basic base64(urlencode(id) ":" urlencode(secret)). */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The form of a valid authorization_code token request for `code`. */
export function codeForm(
  lab: RunningLab<'client'>,
  code: string,
  overrides: Record<string, string> = {},
) {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: `${lab.urls.client}/callback`,
    code_verifier: TEST_VERIFIER,
    ...overrides,
  };
}

/**
 * POST a form body to an AS endpoint the way a client does on the back channel. `auth` is a
 * full Authorization header value, or null for none; default: demo-client's Basic credentials.
 */
export function postAsClient(
  lab: RunningLab<'as'>,
  path: string,
  form: Record<string, string> | string,
  auth: string | null = basic(DEMO.id, DEMO.secret),
) {
  const req = request(lab.urls.as).post(path).type('form');
  if (auth) req.set('Authorization', auth);
  return req.send(typeof form === 'string' ? form : new URLSearchParams(form).toString());
}

/** POST /token with a form body; `auth` as for postAsClient. */
export function postToken(
  lab: RunningLab<'as'>,
  form: Record<string, string> | string,
  auth?: string | null,
) {
  return postAsClient(lab, '/token', form, auth);
}

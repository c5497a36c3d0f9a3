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
/** v08+: the AI agent, registered for client_credentials and token exchange only. */
export const AGENT = { id: 'demo-agent', secret: 'agent-secret' };
/** v08+: the agent's helper, which may only ever read notes. */
export const SUBAGENT = { id: 'demo-subagent', secret: 'subagent-secret' };
/** v06+: the resource server's credentials, with which it asks the AS about tokens. */
export const RESOURCE_SERVER = { id: 'resource-server', secret: 'resource-secret' };

/** RFC 8693 §2.1: the grant type of a token exchange, and §3: the access token type. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  /** v05+. */
  refresh_token?: string;
  /** v08+, for a token exchange: what was issued (RFC 8693 §2.2.1). */
  issued_token_type?: string;
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

/** A client's credentials, as above. */
export interface Credentials {
  id: string;
  secret: string;
}

/** v08+: POST /token as `creds` with grant_type=client_credentials (RFC 6749 §4.4). */
export function clientCredentials(
  lab: RunningLab<'as'>,
  creds: Credentials,
  extra: Record<string, string> = {},
) {
  return postToken(
    lab,
    { grant_type: 'client_credentials', ...extra },
    basic(creds.id, creds.secret),
  );
}

/** v08+: an agent's own token, from client_credentials: the actor token of its exchanges. */
export async function ownToken(lab: RunningLab<'as'>, creds: Credentials): Promise<string> {
  const answer = await clientCredentials(lab, creds);
  if (answer.status !== 200) {
    throw new Error(`${creds.id} got no token of its own: ${JSON.stringify(answer.body)}`);
  }
  return (answer.body as TokenResponse).access_token;
}

/**
 * v08+: POST /token as `creds` with the token-exchange grant (RFC 8693 §2.1) and `params`,
 * exactly as given (an undefined one is left out): for requests that are wrong on purpose.
 * `auth` as for postToken: `creds`' Basic credentials by default, null for none.
 */
export function tokenExchange(
  lab: RunningLab<'as'>,
  creds: Credentials,
  params: Record<string, string | undefined>,
  auth: string | null = basic(creds.id, creds.secret),
) {
  const form = new URLSearchParams({ grant_type: TOKEN_EXCHANGE });
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) form.set(name, value);
  }
  return postToken(lab, form.toString(), auth);
}

/** v06+: introspect a token as the resource server does (RFC 7662 §2.1): the AS's answer. */
export async function introspect(lab: RunningLab<'as'>, token: string) {
  const answer = await postAsClient(
    lab,
    '/introspect',
    { token },
    basic(RESOURCE_SERVER.id, RESOURCE_SERVER.secret),
  );
  if (answer.status !== 200) throw new Error(`introspection failed: ${answer.status}`);
  return answer.body as Record<string, unknown> & { active: boolean };
}

/**
 * v08+: what an agent sends to act for the user of `subjectToken`, the way the lab's agent
 * does: its own token (client_credentials) as the actor token, both token types, the lab's
 * API as the resource, and `overrides` (an undefined one removes a parameter).
 */
export async function actFor(
  lab: RunningLab<'as' | 'rs'>,
  creds: Credentials,
  subjectToken: string,
  overrides: Record<string, string | undefined> = {},
) {
  return tokenExchange(lab, creds, {
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    actor_token: await ownToken(lab, creds),
    actor_token_type: ACCESS_TOKEN_TYPE,
    resource: lab.urls.rs,
    ...overrides,
  });
}

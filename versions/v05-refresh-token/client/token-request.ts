// The back channel: the client trades its code (RFC 6749 §4.1.3) or refresh token (RFC 6749
// §6) for tokens, and revokes tokens (RFC 7009), server to server, authenticating itself with
// client_secret_basic (RFC 6749 §2.3.1).

import type { Request } from 'express';
import { recordHop } from '../../../shared/transcript.ts';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  refresh_token?: string;
}

export type TokenResult =
  | { ok: true; tokens: TokenResponse }
  | { ok: false; error: string; description: string | undefined };

export interface Credentials {
  tokenEndpoint: string;
  revocationEndpoint: string;
  clientId: string;
  clientSecret: string;
}

/** POST to the token endpoint, recording the request and the response in the transcript. */
export async function requestTokens(
  req: Request,
  credentials: Credentials,
  form: Record<string, string>,
): Promise<TokenResult> {
  const authorization = basicAuth(credentials);
  recordHop(req, {
    channel: 'back',
    path: 'Client → Authorization Server',
    title:
      form.grant_type === 'refresh_token'
        ? 'Token request: the client uses its refresh token for fresh tokens'
        : 'Token request: the client redeems the code, proving who it is',
    line: `POST ${credentials.tokenEndpoint}`,
    params: {
      Authorization: `${authorization}   (base64 of "${credentials.clientId}:${credentials.clientSecret}")`,
      ...form,
    },
  });

  let response: Response;
  try {
    response = await postForm(credentials.tokenEndpoint, authorization, form);
  } catch (err) {
    const description = `Could not reach ${credentials.tokenEndpoint}: ${(err as Error).message}`;
    return { ok: false, error: 'network_error', description };
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  recordHop(req, {
    channel: 'back',
    path: 'Authorization Server → Client',
    title: response.ok ? 'Token response: the access token' : 'Token error response',
    line: `${response.status} ${response.statusText}`,
    params: body,
  });

  if (!response.ok || typeof body.access_token !== 'string') {
    const error = typeof body.error === 'string' ? body.error : `http_${response.status}`;
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined;
    return { ok: false, error, description };
  }
  return { ok: true, tokens: body as unknown as TokenResponse };
}

/** Revoke a token at the AS (RFC 7009 §2.1); true when the AS answered 200. */
export async function revokeToken(
  req: Request,
  credentials: Credentials,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<boolean> {
  const endpoint = credentials.revocationEndpoint;
  const form = { token, token_type_hint: hint };
  recordHop(req, {
    channel: 'back',
    path: 'Client → Authorization Server',
    title: 'Revocation request: the client gives up a token',
    line: `POST ${endpoint}`,
    params: { Authorization: basicAuth(credentials), ...form },
  });
  try {
    const response = await postForm(endpoint, basicAuth(credentials), form);
    const text = await response.text();
    recordHop(req, {
      channel: 'back',
      path: 'Authorization Server → Client',
      title: 'Revocation response',
      line: `${response.status} ${response.statusText}`,
      params: text ? { body: text } : {},
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** A form POST to the AS, authenticated as this client; gives up after 5 seconds. */
function postForm(endpoint: string, authorization: string, form: Record<string, string>) {
  return fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(5_000),
  });
}

// RFC 6749 §2.3.1: each part form-encoded before joining with ":", then base64.
function basicAuth({ clientId, clientSecret }: Credentials): string {
  const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

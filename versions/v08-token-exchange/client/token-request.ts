// The client at the token endpoint: it trades its code (RFC 6749 §4.1.3) or refresh token
// (RFC 6749 §6) for tokens, and revokes tokens (RFC 7009), on the back channel,
// authenticating itself with client_secret_basic (RFC 6749 §2.3.1).

import type { Request } from 'express';
import { backChannel } from './back-channel.ts';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  refresh_token?: string;
  /** OpenID Connect Core §3.1.3.3: who logged in, for this client. */
  id_token?: string;
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

/** POST to the token endpoint; the request and the response go into the transcript. */
export async function requestTokens(
  req: Request,
  credentials: Credentials,
  form: Record<string, string>,
): Promise<TokenResult> {
  const { clientId, clientSecret } = credentials;
  const authorization = basicAuth(credentials);
  const { ok, status, body } = await backChannel(req, {
    method: 'POST',
    url: credentials.tokenEndpoint,
    headers: { Authorization: authorization },
    shownHeaders: {
      Authorization: `${authorization}   (base64 of "${clientId}:${clientSecret}")`,
    },
    form,
    to: 'Authorization Server',
    titles: {
      request:
        form.grant_type === 'refresh_token'
          ? 'Token request: the client uses its refresh token for fresh tokens'
          : 'Token request: the client redeems the code, proving who it is',
      ok: 'Token response: the tokens',
      failed: 'Token error response',
    },
  });

  if (!ok || typeof body.access_token !== 'string') {
    const error = typeof body.error === 'string' ? body.error : `http_${status}`;
    const description =
      typeof body.error_description === 'string' ? body.error_description : undefined;
    return { ok: false, error, description };
  }
  return { ok: true, tokens: body as unknown as TokenResponse };
}

/** Revoke a token at the AS (RFC 7009 §2.1). */
export async function revokeToken(
  req: Request,
  credentials: Credentials,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<void> {
  await backChannel(req, {
    method: 'POST',
    url: credentials.revocationEndpoint,
    headers: { Authorization: basicAuth(credentials) },
    form: { token, token_type_hint: hint },
    to: 'Authorization Server',
    titles: {
      request: 'Revocation request: the client gives up a token',
      ok: 'Revocation response',
      failed: 'Revocation error response',
    },
  });
}

// RFC 6749 §2.3.1: each part form-encoded before joining with ":", then base64.
function basicAuth({ clientId, clientSecret }: Credentials): string {
  const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

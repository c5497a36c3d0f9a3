// The client at the token endpoint: it trades its code for tokens (RFC 6749 §4.1.3) on the
// back channel, authenticating itself with client_secret_basic (RFC 6749 §2.3.1).

import type { Request } from 'express';
import { backChannel } from './back-channel.ts';

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
}

export type TokenResult =
  | { ok: true; tokens: TokenResponse }
  | { ok: false; error: string; description: string | undefined };

export interface Credentials {
  tokenEndpoint: string;
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
      request: 'Token request: the client redeems the code, proving who it is',
      ok: 'Token response: the access token',
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

// RFC 6749 §2.3.1: each part form-encoded before joining with ":", then base64.
function basicAuth({ clientId, clientSecret }: Credentials): string {
  const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

// Calling the protected API with the access token (RFC 6750 §2.1), recorded in the transcript.

import type { Request } from 'express';
import { recordHop } from '../../../shared/transcript.ts';

export interface ApiResult {
  ok: boolean;
  status: number;
  body: Record<string, unknown>;
  /** The Bearer challenge of a refused call (RFC 6750 §3): why it was refused. */
  wwwAuthenticate: string | undefined;
}

export async function callApi(
  req: Request,
  accessToken: string,
  method: 'GET' | 'POST',
  url: string,
  form?: Record<string, string>,
): Promise<ApiResult> {
  const authorization = `Bearer ${accessToken}`;
  recordHop(req, {
    channel: 'back',
    path: 'Client → Protected API',
    title: `API request: ${method} ${new URL(url).pathname}`,
    line: `${method} ${url}`,
    params: { Authorization: authorization, ...form },
  });

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        authorization,
        accept: 'application/json',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form) } : {}),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    const description = `Could not reach ${url}: ${(err as Error).message}`;
    return {
      ok: false,
      status: 0,
      body: { error: 'network_error', error_description: description },
      wwwAuthenticate: undefined,
    };
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const wwwAuthenticate = response.headers.get('www-authenticate') ?? undefined;
  recordHop(req, {
    channel: 'back',
    path: 'Protected API → Client',
    title: response.ok ? 'API response' : 'API error response',
    line: `${response.status} ${response.statusText}`,
    params: { ...(wwwAuthenticate ? { 'WWW-Authenticate': wwwAuthenticate } : {}), ...body },
  });
  return { ok: response.ok, status: response.status, body, wwwAuthenticate };
}

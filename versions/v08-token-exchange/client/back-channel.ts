// The back channel: requests this client sends straight to another server, never through the
// browser. Each one is recorded in the transcript on the way out and on the way back, gives up
// after 5 seconds, and comes back in one shape, whatever the answer.

import type { Request } from 'express';
import { recordHop } from '../../../shared/transcript.ts';

export interface BackChannelRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** Sent form-encoded (RFC 6749 §3.2), for POST. */
  form?: Record<string, string>;
  /** The party at the other end, e.g. "Authorization Server", for the transcript. */
  to: string;
  /** What the request is for, and the titles of its answer when it works and when it fails. */
  titles: { request: string; ok: string; failed: string };
  /** What the transcript shows of the headers; default: the headers themselves. */
  shownHeaders?: Record<string, string>;
}

export interface BackChannelResult {
  /** A 2xx answer. */
  ok: boolean;
  /** The HTTP status; 0 when no answer came (network error, timeout). */
  status: number;
  /** The JSON body, or {} when there was none. */
  body: Record<string, unknown>;
  /** The WWW-Authenticate challenge of a refused request (RFC 6750 §3): why it was refused. */
  wwwAuthenticate: string | undefined;
}

export async function backChannel(
  req: Request,
  request: BackChannelRequest,
): Promise<BackChannelResult> {
  const { method, url, headers, form, to, titles } = request;
  recordHop(req, {
    channel: 'back',
    path: `Client → ${to}`,
    title: titles.request,
    line: `${method} ${url}`,
    params: { ...(request.shownHeaders ?? headers), ...form },
  });

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...headers,
        accept: 'application/json',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form) } : {}),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    const description = `Could not reach ${url}: ${(err as Error).message}`;
    recordHop(req, {
      channel: 'back',
      path: `${to} → Client`,
      title: `${titles.failed}: no answer`,
      line: description,
    });
    return failed(0, 'network_error', description);
  }

  const text = await response.text();
  const body = parseJson(text) ?? (text ? { body: text } : {});
  const wwwAuthenticate = response.headers.get('www-authenticate') ?? undefined;
  recordHop(req, {
    channel: 'back',
    path: `${to} → Client`,
    title: response.ok ? titles.ok : titles.failed,
    line: `${response.status} ${response.statusText}`,
    params: { ...(wwwAuthenticate ? { 'WWW-Authenticate': wwwAuthenticate } : {}), ...body },
  });
  return { ok: response.ok, status: response.status, body, wwwAuthenticate };
}

function failed(status: number, error: string, description: string): BackChannelResult {
  return {
    ok: false,
    status,
    body: { error, error_description: description },
    wwwAuthenticate: undefined,
  };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

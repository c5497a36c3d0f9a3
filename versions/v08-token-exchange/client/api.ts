// Calling the protected API with the access token (RFC 6750 §2.1), on the back channel.

import type { Request } from 'express';
import { backChannel, type BackChannelResult } from './back-channel.ts';

export type ApiResult = BackChannelResult;

export function callApi(
  req: Request,
  accessToken: string,
  method: 'GET' | 'POST',
  url: string,
  form?: Record<string, string>,
): Promise<ApiResult> {
  return backChannel(req, {
    method,
    url,
    headers: { Authorization: `Bearer ${accessToken}` },
    ...(form ? { form } : {}),
    to: 'Protected API',
    titles: {
      request: `API request: ${method} ${new URL(url).pathname}`,
      ok: 'API response',
      failed: 'API error response',
    },
  });
}

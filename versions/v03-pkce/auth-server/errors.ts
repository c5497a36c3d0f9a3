// One error type for every OAuth failure, named by the RFC error code it carries.

import type { Request } from 'express';

export class OAuthError extends Error {
  constructor(
    /** The RFC error code, e.g. `invalid_request` (RFC 6749 §4.1.2.1, §5.2). */
    readonly error: string,
    /** What exactly was wrong, for a human; names the offending parameter. */
    readonly description: string,
    readonly status = 400,
    /** Extra response headers, e.g. WWW-Authenticate on a 401 (RFC 6749 §5.2). */
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/**
 * Read one parameter from a parsed query string or form body. Absent and empty are the same
 * (RFC 6749 §3.1); a parameter sent twice is an error (RFC 6749 §3.1: "MUST NOT be included
 * more than once").
 */
export function oneParam(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new OAuthError('invalid_request', `The ${name} parameter was sent more than once.`);
  }
  return value;
}

/** The form parameters of a back-channel POST, which must be form-encoded (RFC 6749 §3.2). */
export function formBody(req: Request): Record<string, unknown> {
  if (!req.is('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
  }
  return req.body as Record<string, unknown>;
}

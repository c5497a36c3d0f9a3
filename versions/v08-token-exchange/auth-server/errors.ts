// One error type for every OAuth failure, named by the RFC error code it carries, and one
// function for each way the AS can answer with an error.

import type { Request, Response } from 'express';

export class OAuthError extends Error {
  /** The RFC error code, e.g. `invalid_request` (RFC 6749 §4.1.2.1, §5.2). */
  readonly error: string;
  /** What exactly was wrong, for a human; names the offending parameter, never its value. */
  readonly description: string;
  readonly status: number;
  /** Extra response headers, e.g. WWW-Authenticate on a 401 (RFC 6749 §5.2). */
  readonly headers: Record<string, string>;

  constructor(
    error: string,
    description: string,
    status = 400,
    headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    // RFC 6749 §4.1.2.1, §5.2: error_description is printable ASCII without " and \.
    this.description = description.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
    this.status = status;
    this.headers = headers;
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

/** The AS's own error page: for errors it must not, or cannot, send back to a client. */
export function showError(
  res: Response,
  err: OAuthError,
  { title, explain }: { title: string; explain?: string },
) {
  res.status(err.status).render('error', {
    title,
    error: err.error,
    description: err.description,
    explain,
  });
}

/**
 * Send an error to the client's trusted redirect_uri (RFC 6749 §4.1.2.1), naming this AS as
 * its issuer (RFC 9207 §2): errors too, so a client can tell which AS answered.
 */
export function redirectError(
  res: Response,
  redirectUri: string,
  err: OAuthError,
  state: string | undefined,
  issuer: string,
) {
  const location = new URL(redirectUri);
  location.searchParams.set('error', err.error);
  location.searchParams.set('error_description', err.description);
  if (state !== undefined) location.searchParams.set('state', state);
  location.searchParams.set('iss', issuer);
  res.redirect(location.href);
}

// RFC 6749 §5.2: a JSON error body, 400 unless the client failed to authenticate (401).
export function sendError(res: Response, err: OAuthError) {
  res.set(err.headers);
  res.status(err.status).json({ error: err.error, error_description: err.description });
}

const REALM = 'oauth-lab';

/**
 * Refuse a call to /userinfo (OpenID Connect Core §5.3.3, RFC 6750 §3): the status, a
 * WWW-Authenticate: Bearer challenge, and the same as JSON. A request that carried no
 * credentials gets a bare challenge, without an error code (RFC 6750 §3.1).
 */
export function bearerError(
  res: Response,
  err: OAuthError,
  { bare = false, scope }: { bare?: boolean; scope?: string } = {},
) {
  const params = [`realm="${REALM}"`];
  if (!bare) params.push(`error="${err.error}"`, `error_description="${err.description}"`);
  if (scope) params.push(`scope="${scope}"`);
  res.set('WWW-Authenticate', `Bearer ${params.join(', ')}`);
  res.status(err.status).json({
    ...(bare ? {} : { error: err.error }),
    error_description: err.description,
  });
}

/** The JSON body of an error no route answered itself, RFC 6749 §5.2-shaped (createApp). */
export function unhandledError(status: number, description: string) {
  const error =
    status === 503 ? 'temporarily_unavailable' : status < 500 ? 'invalid_request' : 'server_error';
  return { error, error_description: new OAuthError(error, description).description };
}

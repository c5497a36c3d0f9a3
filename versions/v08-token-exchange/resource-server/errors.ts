// The resource server's errors: one error type, and the two ways it answers with one: a
// refused API call (RFC 6750 §3) and a bad request body (RFC 6749 §5.2 shape).

import type { Response } from 'express';

export class OAuthError extends Error {
  /** The RFC error code, e.g. `invalid_token` (RFC 6750 §3.1). */
  readonly error: string;
  /** What exactly was wrong, for a human; names the offending parameter, never its value. */
  readonly description: string;
  readonly status: number;

  constructor(error: string, description: string, status = 400) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    // RFC 6750 §3: error_description is printable ASCII without " and \.
    this.description = description.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '?');
    this.status = status;
  }
}

/** A JSON error body: a bad note, say. */
export function sendError(res: Response, err: OAuthError) {
  res.status(err.status).json({ error: err.error, error_description: err.description });
}

const REALM = 'oauth-lab';

/**
 * Refuse an API call (RFC 6750 §3): the status, a WWW-Authenticate: Bearer challenge, and the
 * same as JSON. A request that carried no credentials gets a bare challenge, without an error
 * code (RFC 6750 §3.1); a missing scope is named (RFC 6750 §3). Every challenge points to this
 * server's metadata (RFC 9728 §5.1), where a client finds which AS to get a token from.
 */
export function bearerError(
  res: Response,
  err: OAuthError,
  {
    bare = false,
    scope,
    resourceMetadata,
  }: { bare?: boolean; scope?: string; resourceMetadata: string },
) {
  const params = [`realm="${REALM}"`, `resource_metadata="${resourceMetadata}"`];
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

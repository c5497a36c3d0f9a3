// Bearer tokens at the API (RFC 6750): whoever holds the token may use it, so every call
// checks that the token is real, alive, and carries the scope the endpoint needs.

import type { NextFunction, Request, Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import type { AccessToken } from './token.ts';

const REALM = 'oauth-lab';

// RFC 6750 §2.1: b64token syntax; the scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** A checked token, for the route handler: res.locals.token. */
export interface TokenInfo extends AccessToken {
  scopes: string[];
}

/**
 * Middleware: require a valid access token in the Authorization header with `scope`.
 * Errors per RFC 6750 §3 and §3.1, each with a WWW-Authenticate: Bearer challenge.
 */
export function requireToken(accessTokens: Store<AccessToken>, scope: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    const inQuery = (req.query as Record<string, unknown>).access_token !== undefined;
    const inBody = (req.body as Record<string, unknown> | undefined)?.access_token !== undefined;

    // lab: only the header (RFC 6750 §2.1). Tokens in URLs end up in logs and browser history
    // (RFC 6750 §2.3, §5.3), and sending more than one way is an error (RFC 6750 §2).
    if (inQuery || inBody) {
      const description = header
        ? 'Send the access token one way only.'
        : 'Send the access token in the Authorization header, not in the URL or body.';
      return fail(res, 400, 'invalid_request', description);
    }
    // No credentials, or another scheme: a plain challenge, no error code (RFC 6750 §3.1).
    if (!header || !/^bearer(\s|$)/i.test(header)) {
      return fail(
        res,
        401,
        undefined,
        'This API needs an access token: Authorization: Bearer <token>.',
      );
    }
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      return fail(
        res,
        400,
        'invalid_request',
        'The Authorization header is not Bearer followed by one token.',
      );
    }

    // Opaque tokens: only the store knows what they mean. Unknown, expired and revoked all
    // look the same from here: gone.
    const token = accessTokens.get(match[1]);
    if (!token) {
      return fail(res, 401, 'invalid_token', 'The access token is unknown, expired or revoked.');
    }
    const scopes = token.scope.split(' ');
    if (!scopes.includes(scope)) {
      return fail(res, 403, 'insufficient_scope', `This call needs the ${scope} scope.`, scope);
    }
    res.locals.token = { ...token, scopes } satisfies TokenInfo;
    next();
  };
}

function fail(res: Response, status: number, error?: string, description?: string, scope?: string) {
  const params = [`realm="${REALM}"`];
  if (error) params.push(`error="${error}"`);
  if (error && description) params.push(`error_description="${description}"`);
  if (scope) params.push(`scope="${scope}"`);
  res.set('WWW-Authenticate', `Bearer ${params.join(', ')}`);
  res.set('Cache-Control', 'no-store');
  res.status(status).json({ ...(error ? { error } : {}), error_description: description });
}

// Bearer tokens at the API (RFC 6750): whoever holds the token may use it, so every call
// checks that the token is real, alive, and carries the scope the endpoint needs.

import type { NextFunction, Request, Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import { bearerError, OAuthError } from './errors.ts';
import type { AccessToken } from './tokens.ts';

// RFC 6750 §2.1: b64token syntax; the scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Middleware: require a valid access token in the Authorization header with `scope`. The
 * route handler finds it in res.locals.token. Errors per RFC 6750 §3 and §3.1.
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
      return bearerError(res, new OAuthError('invalid_request', description));
    }
    // No credentials, or another scheme: a plain challenge, no error code (RFC 6750 §3.1).
    if (!header || !/^bearer(\s|$)/i.test(header)) {
      const description = 'This API needs an access token: Authorization: Bearer <token>.';
      return bearerError(res, new OAuthError('invalid_token', description, 401), { bare: true });
    }
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      const description = 'The Authorization header is not Bearer followed by one token.';
      return bearerError(res, new OAuthError('invalid_request', description));
    }

    // Opaque tokens: only the store knows what they mean. Unknown, expired and revoked all
    // look the same from here: gone.
    const token = accessTokens.get(match[1]);
    if (!token) {
      const description = 'The access token is unknown, expired or revoked.';
      return bearerError(res, new OAuthError('invalid_token', description, 401));
    }
    if (!token.scope.split(' ').includes(scope)) {
      const description = `This call needs the ${scope} scope.`;
      return bearerError(res, new OAuthError('insufficient_scope', description, 403), { scope });
    }
    res.locals.token = token;
    next();
  };
}

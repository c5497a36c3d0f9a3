// Bearer tokens at the API (RFC 6750): whoever holds the token may use it, so every call
// checks that the token is real, alive, meant for this API, and carries the scope the
// endpoint needs. How "real and alive" is checked is the resource server's validation mode.

import type { NextFunction, Request, Response } from 'express';
import { bearerError, OAuthError } from './errors.ts';

/** What a valid token tells the API: who, through which client, allowed to do what. */
export interface ValidToken {
  /** The user the token is for (its `sub`). */
  sub: string;
  /** The client it was issued to. */
  clientId: string;
  scopes: string[];
  jti: string;
  /**
   * RFC 8693 §4.1: who acts for the user, outermost (acting now) first; empty when the user's
   * own client holds the token. Only for the record: access is decided by the scopes.
   */
  actors: string[];
  /** lab: the task an agent's token was exchanged for. */
  taskId?: string;
}

/** The actors an `act` claim names, outermost first: {sub: b, act: {sub: a}} → [b, a]. */
export function actorsOf(act: unknown): string[] {
  const actors: string[] = [];
  for (let at = act; actors.length < 10 && at && typeof at === 'object';) {
    const { sub, act: inner } = at as { sub?: unknown; act?: unknown };
    actors.push(String(sub));
    at = inner;
  }
  return actors;
}

/** Checks a token, locally or by asking the AS; throws an OAuthError saying why it is no good. */
export type Validate = (token: string) => Promise<ValidToken>;

/** One line of the API's record of what it allowed and refused, shown on its home page. */
export interface Decision {
  at: string;
  request: string;
  status: number;
  outcome: string;
  sub?: string;
  clientId?: string;
  scope?: string;
  jti?: string;
  /** The act chain, outermost first (RFC 8693 §4.1), and the task: the audit trail. */
  actors?: string[];
  taskId?: string;
}

interface Deps {
  validate: Validate;
  /** Where this server's metadata is, for every challenge (RFC 9728 §5.1). */
  resourceMetadata: string;
  record: (decision: Decision) => void;
}

// RFC 6750 §2.1: b64token syntax; the scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Middleware: require a valid access token in the Authorization header with `scope`. The
 * route handler finds it in res.locals.token. Errors per RFC 6750 §3 and §3.1.
 */
export function bearerGuard({ validate, resourceMetadata, record }: Deps) {
  return (scope: string) => async (req: Request, res: Response, next: NextFunction) => {
    const request = `${req.method} ${req.path}`;
    const refuse = (err: OAuthError, options: { bare?: boolean; scope?: string } = {}) => {
      record({
        at: new Date().toISOString(),
        request,
        status: err.status,
        outcome: err.description,
      });
      bearerError(res, err, { ...options, resourceMetadata });
    };
    const header = req.get('authorization');
    const inQuery = (req.query as Record<string, unknown>).access_token !== undefined;
    const inBody = (req.body as Record<string, unknown> | undefined)?.access_token !== undefined;

    // lab: only the header (RFC 6750 §2.1). Tokens in URLs end up in logs and browser history
    // (RFC 6750 §2.3, §5.3), and sending more than one way is an error (RFC 6750 §2).
    if (inQuery || inBody) {
      const description = header
        ? 'Send the access token one way only.'
        : 'Send the access token in the Authorization header, not in the URL or body.';
      return refuse(new OAuthError('invalid_request', description));
    }
    // No credentials, or another scheme: a plain challenge, no error code (RFC 6750 §3.1).
    if (!header || !/^bearer(\s|$)/i.test(header)) {
      const description = 'This API needs an access token: Authorization: Bearer <token>.';
      return refuse(new OAuthError('invalid_token', description, 401), { bare: true });
    }
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      const description = 'The Authorization header is not Bearer followed by one token.';
      return refuse(new OAuthError('invalid_request', description));
    }

    let token: ValidToken;
    try {
      token = await validate(match[1]);
    } catch (err) {
      if (err instanceof OAuthError) return refuse(err);
      // The AS could not be asked (down, or its metadata unreadable): fail closed, and say so.
      const description =
        'The token could not be checked: the authorization server did not answer.';
      return refuse(new OAuthError('temporarily_unavailable', description, 503));
    }
    // Who asks, for whom, through which agents, for which task: one audit line per request.
    const { sub, clientId, jti, actors, taskId } = token;
    const who = { sub, clientId, scope: token.scopes.join(' '), jti, actors, taskId };
    if (!token.scopes.includes(scope)) {
      const description = `This call needs the ${scope} scope.`;
      record({ at: new Date().toISOString(), request, status: 403, outcome: description, ...who });
      return bearerError(res, new OAuthError('insufficient_scope', description, 403), {
        scope,
        resourceMetadata,
      });
    }
    // Logged once the API has answered, with the status it answered (201 for a new note).
    res.on('finish', () => {
      const { statusCode: status } = res;
      const outcome = status < 400 ? 'allowed' : 'allowed, but the API refused the request';
      record({ at: new Date().toISOString(), request, status, outcome, ...who });
    });
    res.locals.token = token;
    next();
  };
}

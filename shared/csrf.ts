// Forms that change something accept only submissions from pages of the same app: each form
// carries a per-session secret in a hidden `_csrf` input, which a page on another site cannot
// read. SameSite=Lax cookies already stop most cross-site POSTs, but not all (a page on
// another localhost port is the same site), and not a cross-site login form, which needs no
// cookie at all: the token does not depend on the browser.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

declare module 'express-session' {
  interface SessionData {
    csrfToken?: string;
  }
}

/** This session's form token, made on first use. Put it in a hidden `_csrf` input. */
export function csrfToken(req: Request): string {
  req.session.csrfToken ??= randomBytes(32).toString('base64url');
  return req.session.csrfToken;
}

/** True when the submitted form carries this session's token (compared in constant time). */
export function validCsrf(req: Request): boolean {
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
  const expected = req.session.csrfToken;
  if (typeof sent !== 'string' || expected === undefined) return false;
  const hash = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(hash(sent), hash(expected));
}

/** Middleware: refuse a form that does not carry this session's token, with a 403 page. */
export function requireCsrf(req: Request, res: Response, next: NextFunction) {
  if (validCsrf(req)) return next();
  res.status(403).render('error', {
    title: 'Form refused',
    error: 'invalid_csrf_token',
    description: `This form did not come from a page of the ${String(res.app.locals.appName)}, so it was ignored.`,
    explain: 'Reload the page it came from and try again.',
  });
}

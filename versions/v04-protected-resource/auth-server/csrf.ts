// The AS's own forms (login, consent, logout) accept only submissions from pages it served: each
// form carries a per-session secret that another site cannot read. SameSite=Lax cookies
// already stop most cross-site POSTs; this does not depend on the browser doing so.

import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { safeEqual } from './safe-equal.ts';

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

/** True when the submitted form carries this session's token. */
export function validCsrf(req: Request): boolean {
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
  const expected = req.session.csrfToken;
  return typeof sent === 'string' && expected !== undefined && safeEqual(sent, expected);
}

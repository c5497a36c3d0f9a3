// Answers that must never be cached: tokens, secrets, one user's data.

import type { NextFunction, Request, Response } from 'express';

/** Middleware for a group of routes: nothing they answer is stored by any cache. */
export function noStore(_req: Request, res: Response, next: NextFunction) {
  // RFC 6749 §5.1 asks for both; Pragma is for HTTP/1.0 caches.
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  next();
}

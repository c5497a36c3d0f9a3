// The protected API (v04+) as a client calls it, for the tests and the attack script: a
// request with `Authorization: Bearer <token>` (RFC 6750 §2.1). Until v05 the API lives in
// the AS process; from v06 on it has a resource server of its own.

import request from 'supertest';
import type { RunningLab } from '../../shared/lab.ts';
import { Browser } from './browser.ts';
import { csrfOf } from './flow.ts';

/** Where a lab's API is: its resource server when it has one, else its AS. */
export function apiUrl(lab: RunningLab<'as'>): string {
  return (lab.urls as Record<string, string>).rs ?? lab.urls.as;
}

/** GET an API path (e.g. '/api/me') with the token as a Bearer token: the response. */
export function apiGet(lab: RunningLab<'as'>, path: string, token: string) {
  return request(apiUrl(lab)).get(path).set('Authorization', `Bearer ${token}`);
}

/** POST to an API path with the token as a Bearer token; chain .type() and .send() for a body. */
export function apiPost(lab: RunningLab<'as'>, path: string, token: string) {
  return request(apiUrl(lab)).post(path).set('Authorization', `Bearer ${token}`);
}

/**
 * v06+: switch the lab's resource server between checking JWTs by itself (its default, which
 * goes on accepting a revoked token until it expires) and asking the AS about every token
 * (introspection, which refuses a revoked one at once), with its home page's form. A no-op for
 * labs without a resource server: their API always knows.
 */
export async function setValidation(lab: RunningLab<'as'>, mode: 'jwt' | 'introspection') {
  const rs = (lab.urls as Record<string, string>).rs;
  if (!rs) return;
  const browser = new Browser();
  const home = await browser.get(`${rs}/`);
  const page = await browser.post(`${rs}/mode`, { _csrf: csrfOf(home), mode });
  if (page.status !== 303) throw new Error(`the RS would not switch: ${page.status}`);
}

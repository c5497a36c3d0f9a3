// The protected API (v04+) as a client calls it, for the tests and the attack script: a
// request with `Authorization: Bearer <token>` (RFC 6750 §2.1).

import request from 'supertest';
import type { RunningLab } from '../../shared/lab.ts';

/** GET an API path (e.g. '/api/me') with the token as a Bearer token: the response. */
export function apiGet(lab: RunningLab<'as'>, path: string, token: string) {
  return request(lab.urls.as).get(path).set('Authorization', `Bearer ${token}`);
}

/** POST to an API path with the token as a Bearer token; chain .type() and .send() for a body. */
export function apiPost(lab: RunningLab<'as'>, path: string, token: string) {
  return request(lab.urls.as).post(path).set('Authorization', `Bearer ${token}`);
}

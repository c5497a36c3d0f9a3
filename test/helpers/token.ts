// Helpers for the token endpoint: get a fresh code, and call POST /token as a client would.

import request from 'supertest';
import type { RunningLab } from '../../shared/lab.ts';
import { Browser } from './browser.ts';
import { authorizeUrl, locationParams, logInAtAs, TEST_VERIFIER, throughConsent } from './flow.ts';

export const DEMO = { id: 'demo-client', secret: 'demo-secret' };
export const OTHER = { id: 'other-client', secret: 'other:secret%' };
/** A registered client that may not use the authorization_code grant. */
export const BATCH = { id: 'batch-job', secret: 'batch-secret' };

/** A fresh code for demo-client (user0), issued for TEST_CHALLENGE unless overridden. */
export async function freshCode(
  lab: RunningLab,
  overrides: Record<string, string | undefined> = {},
): Promise<string> {
  const browser = new Browser();
  await logInAtAs(lab, browser);
  const page = await throughConsent(browser, await browser.get(authorizeUrl(lab, overrides)));
  const code = locationParams(page).get('code');
  if (!code) throw new Error(`no code: ${page.location}`);
  return code;
}

/** RFC 6749 §2.3.1: Basic base64(urlencode(id) ":" urlencode(secret)). */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The form of a valid authorization_code token request for `code`. */
export function codeForm(lab: RunningLab, code: string, overrides: Record<string, string> = {}) {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: `${lab.urls.client}/callback`,
    code_verifier: TEST_VERIFIER,
    ...overrides,
  };
}

/** POST /token with a form body; `auth` is a full Authorization header value, or null. */
export function postToken(
  lab: RunningLab,
  form: Record<string, string> | string,
  auth: string | null = basic(DEMO.id, DEMO.secret),
) {
  const req = request(lab.urls.as!).post('/token').type('form');
  if (auth) req.set('Authorization', auth);
  return req.send(typeof form === 'string' ? form : new URLSearchParams(form).toString());
}

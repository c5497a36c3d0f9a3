// Drive the authorization code flow the way a person in a browser would, for the tests and
// the attack and bench scripts: each caller states only what differs from the happy path.

import { createHash, randomBytes } from 'node:crypto';
import type { RunningLab } from '../../shared/lab.ts';
import { Browser, type Page } from './browser.ts';

export interface FlowOptions {
  /** Who logs in at the AS; default user0. */
  username?: string;
  /** Default: the username's own password (user1 → password1). */
  password?: string;
  /** What to answer on the consent page (v04+): approve (default) or deny. */
  decision?: 'approve' | 'deny';
  /** The scopes to leave ticked on the consent page; default: all that were asked for. */
  grant?: string[];
}

/** The password of a lab user: user1 → password1. */
export const passwordOf = (username: string) => username.replace('user', 'password');

/** The hidden CSRF token of a form page (v04+), or '' for versions without one. */
export function csrfOf(page: Page): string {
  return /name="_csrf" value="([^"]*)"/.exec(page.text)?.[1] ?? '';
}

/** The id that ties a consent page to the request it answers. */
export function consentIdOf(page: Page): string {
  return /name="consent_id" value="([^"]*)"/.exec(page.text)?.[1] ?? '';
}

/** The scopes a consent page asks for. */
function scopesOf(page: Page): string[] {
  return [...page.text.matchAll(/name="scope" value="([^"]*)"/g)].map((match) => match[1]!);
}

/** Answer the consent page the AS redirected to (v04+). */
export async function answerConsent(browser: Browser, page: Page, options: FlowOptions = {}) {
  const form = await browser.follow(page);
  if (form.status !== 200)
    throw new Error(`no consent page: ${form.status} ${form.text.slice(0, 300)}`);
  const body = new URLSearchParams({
    _csrf: csrfOf(form),
    consent_id: consentIdOf(form),
    decision: options.decision ?? 'approve',
  });
  for (const scope of options.grant ?? scopesOf(form)) body.append('scope', scope);
  return browser.postRaw(new URL('/consent', form.url).href, body.toString());
}

/** Follow an /authorize answer through a consent page, if any, to the redirect to the client. */
export async function throughConsent(browser: Browser, page: Page, options: FlowOptions = {}) {
  if (page.location === '/consent') return answerConsent(browser, page, options);
  return page;
}

/** A flow stopped at the AS's redirect back to the client (`land: false`). */
export interface StoppedFlow {
  browser: Browser;
  /** The AS's redirect back to the client, carrying the code (or an error). */
  authorizationResponse: Page;
  /** Query parameters of the authorization response. */
  params: URLSearchParams;
}

/** A flow that followed the redirect to the client's callback. */
export interface LandedFlow extends StoppedFlow {
  /** The client's /callback page. */
  callback: Page;
}

/** The query of a redirect's Location header. */
export function locationParams(page: Page): URLSearchParams {
  if (!page.location) throw new Error(`${page.url} answered ${page.status} without a Location`);
  return new URL(page.location, page.url).searchParams;
}

type RunFlowOptions = FlowOptions & { browser?: Browser };

/**
 * Click "Log in" on the client and go through the AS (logging in when it asks) until it
 * redirects back to the client's callback, then land there. With `land: false` it stops at
 * that redirect, and there is no callback page.
 */
export async function runFlow(
  lab: RunningLab<'client'>,
  options?: RunFlowOptions & { land?: true },
): Promise<LandedFlow>;
export async function runFlow(
  lab: RunningLab<'client'>,
  options: RunFlowOptions & { land: false },
): Promise<StoppedFlow>;
export async function runFlow(
  lab: RunningLab<'client'>,
  options: RunFlowOptions & { land?: boolean } = {},
): Promise<StoppedFlow | LandedFlow> {
  const browser = options.browser ?? new Browser();
  const callback = `${lab.urls.client}/callback`;
  const login = await browser.get(`${lab.urls.client}/login`);
  const page = await throughAs(browser, login, callback, options);
  const stopped = { browser, authorizationResponse: page, params: locationParams(page) };
  if (options.land === false) return stopped;
  return { ...stopped, callback: await browser.follow(page) };
}

/**
 * Go on from `page` (a redirect towards the AS's /authorize) the way a person in a browser
 * would: log in when the AS shows its login form, answer its consent page, until it redirects
 * to a URL that starts with `redirectUri`. That redirect, not followed.
 */
export async function throughAs(
  browser: Browser,
  page: Page,
  redirectUri: string,
  options: FlowOptions = {},
): Promise<Page> {
  const username = options.username ?? 'user0';
  for (let step = 0; step < 10; step++) {
    if (page.location && new URL(page.location, page.url).href.startsWith(redirectUri)) {
      return page;
    }
    if (page.location === '/consent') {
      page = await answerConsent(browser, page, options);
    } else if (page.location) {
      page = await browser.follow(page);
    } else if (page.status === 200 && new URL(page.url).pathname === '/login') {
      page = await browser.post(page.url, {
        username,
        password: options.password ?? passwordOf(username),
        _csrf: csrfOf(page),
      });
    } else {
      throw new Error(`Flow stuck at ${page.url}: ${page.status}\n${page.text.slice(0, 500)}`);
    }
  }
  throw new Error(`Flow did not reach ${redirectUri} in 10 steps`);
}

/** Submit the AS login form the way a browser does: fetch the form, then post it. */
export async function submitLogin(
  lab: RunningLab<'as'>,
  browser: Browser,
  form: Record<string, string>,
) {
  const page = await browser.get(`${lab.urls.as}/login`);
  return browser.post(`${lab.urls.as}/login`, { _csrf: csrfOf(page), ...form });
}

/**
 * Submit one of the client's own forms (v04+: /notes, /logout; v05+: /refresh, /revoke) the
 * way a browser does: load the client's home page for the form's token, then post.
 */
export async function submitClientForm(
  lab: RunningLab<'client'>,
  browser: Browser,
  path: string,
  form: Record<string, string> = {},
) {
  const home = await browser.get(`${lab.urls.client}/`);
  return browser.post(`${lab.urls.client}${path}`, { _csrf: csrfOf(home), ...form });
}

/** Log a browser in at the AS directly (no client involved): the login's 303 answer. */
export async function logInAtAs(lab: RunningLab<'as'>, browser: Browser, username = 'user0') {
  const page = await submitLogin(lab, browser, { username, password: passwordOf(username) });
  if (page.status !== 303) throw new Error(`login failed: ${page.status}`);
  return page;
}

/** A new browser, logged in at the AS as `username` (no client involved). */
export async function loggedInBrowser(lab: RunningLab<'as'>, username = 'user0') {
  const browser = new Browser();
  await logInAtAs(lab, browser, username);
  return browser;
}

/** A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2). */
export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** The verifier behind TEST_CHALLENGE, which authorizeUrl sends unless told otherwise. */
export const TEST_VERIFIER = 'test-verifier-0123456789-0123456789-0123456789';
export const TEST_CHALLENGE = createHash('sha256').update(TEST_VERIFIER).digest('base64url');

/**
 * A valid authorization request URL for demo-client, with `overrides` applied (undefined
 * removes a parameter). It carries a PKCE challenge, which versions before v03 ignore.
 */
export function authorizeUrl(
  lab: RunningLab<'as' | 'client'>,
  overrides: Record<string, string | undefined> = {},
): string {
  const url = new URL('/authorize', lab.urls.as);
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: 'demo-client',
    redirect_uri: `${lab.urls.client}/callback`,
    code_challenge: TEST_CHALLENGE,
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.href;
}

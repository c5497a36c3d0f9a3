// Typed readers of the apps' GET /debug/state.json, for the tests and the attack and bench
// scripts. The interfaces describe the JSON of every version's apps: shared/debug.ts wraps
// each app's own sections (its lab.debug() call) in yourSession and allSessions. A field that
// not every version has is optional; the version it arrives in is noted.

import { decodeJwt } from 'jose';
import type { RunningLab } from '../../shared/lab.ts';
import type { Hop } from '../../shared/transcript.ts';
import { Browser } from './browser.ts';
import type { TokenResponse } from './token.ts';

/** What every app's state.json has around its own sections. */
interface AppState<Session> {
  /** The session of the browser that asked, with its id (and express-session's cookie). */
  yourSession: Session & { sessionId: string; cookie?: unknown };
  /** Every live session of the app, by id. */
  allSessions: Record<string, unknown>;
  /** How full the app's session memory is. */
  sessionPools?: Record<string, unknown>;
}

/** A stored entry with a lifetime: shown with the milliseconds it has left. */
type Expiring<T> = T & { expiresInMs: number };

export interface AsSession {
  user?: { username: string; loggedInAt: string };
  /** The /authorize URL waiting for the login to finish. */
  pendingAuthorize?: string;
  /** v02+: the token of the AS's own forms. */
  csrfToken?: string;
  /** When a login completed in this session; absent while it is anonymous. */
  signedInAt?: string;
}

/** v04+: a checked authorization request waiting on the consent page. */
export interface PendingConsent {
  id: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  codeChallenge: string;
}

/** What a code or token was issued for. */
interface Grant {
  clientId: string;
  username: string;
  /** Space-separated; before v04 only when the request named one. */
  scope?: string;
  issuedAt: string;
}

export interface StoredCode extends Grant {
  redirectUri: string;
  /** v03+. */
  codeChallenge?: string;
  /** v03+: set at the first redemption. */
  usedAt?: string;
}

export interface StoredToken extends Grant {
  /** The code its grant started from. */
  code: string;
  /** Refresh tokens: how many came before it in its family. */
  generation?: number;
  /** Refresh tokens: set when it was used and replaced. */
  rotatedAt?: string;
}

export interface AsState extends AppState<AsSession> {
  clients: Record<
    string,
    {
      clientId: string;
      name: string;
      redirectUris: string[];
      /** v03+. */
      clientSecret?: string;
      /** v03+. */
      grantTypes?: string[];
    }
  >;
  users: Record<string, { username: string; password: string; name: string }>;
  codes: Record<string, Expiring<StoredCode>>;
  /** v03+. */
  accessTokens?: Record<string, Expiring<StoredToken>>;
  /** v05+. */
  refreshTokens?: Record<string, Expiring<StoredToken>>;
  /** v04+: the scopes each user granted each client, by "user → client". */
  consents?: Record<string, string[]>;
  /** v04+: the request this browser's AS session is being asked to consent to. */
  yourPendingConsent?: PendingConsent;
  /** v04+: every request waiting for consent, by session id. */
  pendingConsents?: Record<string, Expiring<PendingConsent>>;
  /** v04 and v05 (from v06 on, at the resource server): each user's notes. */
  notes?: Record<string, Note[]>;
  /** v06+: the signing keys, private keys left out. */
  signingKeys?: Array<{ kid: string; status: 'next' | 'current' | 'previous'; createdAt: string }>;
  /** v08+: the live access tokens, each token made by exchange under the one it came from. */
  lineage?: LineageNode[];
}

/** v08+: one live access token in the AS's lineage tree. */
export interface LineageNode {
  jti: string;
  client: string;
  sub: string;
  scope: string;
  act?: { sub: string; act?: unknown };
  /** The task's description. */
  task?: string;
  children: LineageNode[];
}

export interface Note {
  text: string;
  createdAt: string;
  via: string;
}

/** v06+: one line of the resource server's audit log, newest first. */
export interface Decision {
  request: string;
  status: number;
  outcome: string;
  sub?: string;
  /** v08+: the client the token was issued to, its scope and its `jti`. */
  clientId?: string;
  scope?: string;
  jti?: string;
  /** v08+: who acted for the user (RFC 8693 `act`), outermost first, and the task. */
  actors?: string[];
  taskId?: string;
}

/** v06+: the resource server's state. */
export interface RsState extends AppState<Record<string, unknown>> {
  config: { resource: string; trustedIssuer: string; validation: 'jwt' | 'introspection' };
  keySet: { kids: string[]; fetchedAt: string };
  decisions: Decision[];
  notes: Record<string, Note[]>;
}

export interface ClientSession {
  /** The flow transcript, from the first login on. */
  transcript?: Hop[];
  /** v04+: the user, from GET /api/me. */
  profile?: Record<string, unknown>;
  /** v04+: the outcome of the last note added, shown once. */
  flash?: { ok: boolean; status: number; body: Record<string, unknown>; wwwAuthenticate?: string };
  /** v05+: why the user must log in again. */
  loginAgain?: string;
  /** v03+: when a login completed in this session; absent while it is anonymous. */
  signedInAt?: string;
}

/** v02+: a login the client started, kept on the server by session id. */
export interface PendingLogin {
  state: string;
  /** v03+: the PKCE code_verifier of the flow. */
  verifier?: string;
  startedAt: string;
}

export interface ClientState extends AppState<ClientSession> {
  /** v02+: the login this browser has under way. */
  yourPendingLogin?: PendingLogin;
  /** v02+: every login under way, by session id. */
  pendingLogins?: Record<string, Expiring<PendingLogin>>;
  /** v03+: the tokens the client holds for this browser. */
  yourTokens?: TokenResponse;
  /** v03+: the tokens of every logged-in browser, by session id. */
  tokens?: Record<string, Expiring<TokenResponse>>;
  config: {
    clientId: string;
    redirectUri: string;
    authorizationServer: string;
    /** v03+. */
    clientSecret?: string;
    /** v03+. */
    tokenEndpoint?: string;
  };
}

async function readState(baseUrl: string, browser: Browser): Promise<unknown> {
  const page = await browser.get(`${baseUrl}/debug/state.json`);
  if (page.status !== 200) throw new Error(`${page.url} answered ${page.status}`);
  return JSON.parse(page.text);
}

/** The AS's state, with `browser`'s AS session as yourSession (default: a new browser). */
export async function asState(lab: RunningLab<'as'>, browser = new Browser()): Promise<AsState> {
  return (await readState(lab.urls.as, browser)) as AsState;
}

/** The client's state, with `browser`'s client session as yourSession. */
export async function clientState(
  lab: RunningLab<'client'>,
  browser = new Browser(),
): Promise<ClientState> {
  return (await readState(lab.urls.client, browser)) as ClientState;
}

/** The tokens the client holds for `browser`; throws when it holds none. */
export async function clientTokens(
  lab: RunningLab<'client'>,
  browser: Browser,
): Promise<TokenResponse> {
  const tokens = (await clientState(lab, browser)).yourTokens;
  if (!tokens) throw new Error('The client holds no tokens in this browser’s session.');
  return tokens;
}

/** v06+: the resource server's state. */
export async function rsState(lab: RunningLab<'rs'>, browser = new Browser()): Promise<RsState> {
  return (await readState(lab.urls.rs, browser)) as RsState;
}

/** v08+: the AI agent's state: the calls it made and the tasks it did, newest first. */
export interface AgentState extends AppState<Record<string, unknown>> {
  identities: Array<{ clientId: string; name: string; ownToken?: string }>;
  calls: Array<{ at: string; by: string; request: string; status: number; outcome: string }>;
  outcomes: Array<{
    task: string;
    taskId: string;
    result?: string;
    error?: string;
    chain: Array<{ holder: string; token: string }>;
  }>;
}

/** v08+: the AI agent's state. */
export async function agentState(
  lab: RunningLab<'agent'>,
  browser = new Browser(),
): Promise<AgentState> {
  return (await readState(lab.urls.agent, browser)) as AgentState;
}

/**
 * What the AS keeps of an access token: until v05 by the token itself, from v06 (where it is
 * a JWT) by its `jti`. Undefined once it is revoked or expired.
 */
export async function storedAccessToken(lab: RunningLab<'as'>, token: string) {
  let key = token;
  try {
    key = String(decodeJwt(token).jti);
  } catch {
    // not a JWT: an opaque token, stored under itself
  }
  return (await asState(lab)).accessTokens?.[key];
}

/** A user's notes, wherever the lab keeps them: the AS until v05, the resource server after. */
export async function notesOf(lab: RunningLab<'as'> & { urls: { rs?: string } }, username: string) {
  const state = lab.urls.rs ? await readState(lab.urls.rs, new Browser()) : await asState(lab);
  return ((state as { notes?: Record<string, Note[]> }).notes?.[username] ?? []).map(
    (note) => note.text,
  );
}

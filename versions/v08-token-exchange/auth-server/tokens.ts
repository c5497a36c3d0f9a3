// The tokens the AS issues: what it keeps for each, issuing them for a grant, and revoking
// every token one grant produced, and every token made from those by exchange. Access tokens
// are signed JWTs (RFC 9068) that a resource server can check by itself; refresh tokens stay
// opaque: only this AS ever reads them.

import { randomBytes } from 'node:crypto';
import type { Store } from '../../../shared/store.ts';
import type { SigningKeys } from './keys.ts';

/** What the AS keeps of an access token, by its `jti`: the JWT itself it hands out. */
export interface AccessToken {
  clientId: string;
  username: string;
  /** Granted scopes, space-separated: what the bearer may do (RFC 6749 §3.3). */
  scope: string;
  /** The resources it may be used at: its `aud` claim (RFC 8707 §2). */
  resources: string[];
  issuedAt: string;
  /** For a token made by exchange (RFC 8693): the `jti` of the token it was made from. */
  parent?: string;
  /** RFC 8693 §4.1: who acts for the user, outermost first; nested for a chain of agents. */
  act?: Actor;
  /** lab: the task an agent's token was exchanged for, bound into the token. */
  task?: { id: string; description: string };
  /**
   * The code its grant started from. Every token issued from one code, directly or by
   * refreshing, is one family: a replayed code or refresh token revokes them all.
   */
  code: string;
}

export interface RefreshToken {
  clientId: string;
  username: string;
  /** The scope the user granted; a refresh may ask for less, never more (RFC 6749 §6). */
  scope: string;
  /** The resources granted; a refresh may ask for fewer, never more (RFC 8707 §2.2). */
  resources: string[];
  issuedAt: string;
  code: string;
  /** How many refresh tokens of this family came before it: 0 for the first. */
  generation: number;
  /** Set when it is used; a rotated token used again means it was stolen (RFC 9700 §4.14.2). */
  rotatedAt?: string;
}

// lab: 60 seconds by default, short enough to watch a token expire and be refreshed in class,
// and never more than 5 minutes: a resource server that checks JWTs by itself goes on
// accepting a revoked one until it expires.
export const ACCESS_TOKEN_TTL_MS = 60_000;
export const MAX_ACCESS_TOKEN_TTL_MS = 5 * 60_000;
// lab: a login lasts 8 hours, however often it is refreshed: every refresh token of a family
// expires when the first one does. A used (rotated) one is kept until then, to recognise reuse.
export const REFRESH_TOKEN_TTL_MS = 8 * 60 * 60_000;
// lab: a login may be refreshed this many times (8 hours of 60-second tokens take 480). Each
// rotated token is kept to recognise reuse, so this bounds what one family holds; past it the
// login ends, rather than older tokens being forgotten and reuse going unnoticed.
export const MAX_REFRESHES = 1_000;

export interface TokenStores {
  accessTokens: Store<AccessToken>;
  refreshTokens: Store<RefreshToken>;
}

/** What signing an access token takes: the keys, the issuer's name, and the time. */
export interface Signer {
  keys: SigningKeys;
  /** The `iss` claim: this AS's base URL, exactly as in its metadata (RFC 8414 §2). */
  issuer: string;
  now: () => number;
}

/** Who a grant's tokens are for, and the code the grant started from. */
export interface Owner {
  clientId: string;
  username: string;
  code: string;
}

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** RFC 6749 §5.1: lab: always, but for a token with no scope at all. */
  scope?: string;
  /** Not for client_credentials (RFC 6749 §4.4.3) nor a token exchange (RFC 8693 §2.2.1). */
  refresh_token?: string;
  /** OpenID Connect Core §3.1.3.3: when the scope has `openid`. */
  id_token?: string;
  /** RFC 8693 §2.2.1: what an exchange issued. */
  issued_token_type?: string;
}

/**
 * A new access token and a new refresh token, one family, as an RFC 6749 §5.1 response. Both
 * are stored before anything waits (only the signature does): a full store refuses them here,
 * at once, so the caller can still leave everything as it was. Hence a plain function that
 * returns a promise, not an async one, whose errors would arrive only later.
 */
export function issueTokens(
  deps: TokenStores & Signer,
  owner: Owner,
  scope: string,
  resources: string[],
  // The refresh token's scope, resources, generation and end: a refresh passes on the family's.
  refresh = { scope, resources, generation: 0, ttlMs: REFRESH_TOKEN_TTL_MS },
): Promise<TokenResponse> {
  const issuedAt = new Date(deps.now()).toISOString();
  // RFC 6749 §10.10: unguessable, so 256 bits from a CSPRNG.
  const refreshToken = randomBytes(32).toString('base64url');
  // lab: with `openid`, the token is for this AS's /userinfo too (OpenID Connect Core §5.3).
  const audience = scope.split(' ').includes('openid') ? [...resources, deps.issuer] : resources;
  const access = issueAccessToken(deps, { ...owner, scope, resources, issuedAt }, { audience });
  const { generation, ttlMs } = refresh;
  deps.refreshTokens.set(
    refreshToken,
    { ...owner, scope: refresh.scope, resources: refresh.resources, issuedAt, generation },
    ttlMs,
  );

  return access.sign().then((accessToken) => ({
    access_token: accessToken,
    token_type: 'Bearer' as const,
    expires_in: access.expiresIn,
    // RFC 6749 §5.1: required when it differs from the request; lab: always, so the client
    // sees exactly what the user granted.
    scope,
    refresh_token: refreshToken,
  }));
}

/**
 * Store an access token's record under a new `jti`, and return how to sign its JWT (RFC 9068
 * §2.2), with `claims` added (an exchanged token's `act`, say). Stored at once, signed when
 * the caller has stored everything else: a full store refuses it before anything waits.
 */
export function issueAccessToken(
  deps: TokenStores & Signer,
  record: AccessToken,
  {
    audience,
    lifetimeMs = deps.accessTokens.ttlMs,
    claims = {},
  }: { audience: string[]; lifetimeMs?: number; claims?: Record<string, unknown> },
) {
  const now = deps.now();
  // RFC 7519 §4.1.7: a unique id, which is how the AS finds the token again to revoke it.
  const jti = randomBytes(16).toString('base64url');
  deps.accessTokens.set(jti, record, lifetimeMs);
  const sign = () =>
    deps.keys.sign('at+jwt', {
      iss: deps.issuer,
      sub: record.username,
      // RFC 9068 §3: the resource indicators become the audience; one is a plain string.
      aud: audience.length === 1 ? audience[0] : audience,
      client_id: record.clientId,
      // RFC 6749 §3.3: a scope has at least one value; an agent's own token has none.
      ...(record.scope ? { scope: record.scope } : {}),
      ...claims,
      jti,
      iat: Math.floor(now / 1000),
      exp: Math.floor((now + lifetimeMs) / 1000),
    });
  return { jti, sign, expiresIn: Math.round(lifetimeMs / 1000) };
}

/**
 * The record of an access token this AS issued and still stands by: its signature checks out
 * with a key the AS still publishes, it has not expired, and its record was not deleted by a
 * revocation. Else undefined: garbage, forged, expired and revoked all look alike.
 */
export async function liveAccessToken(deps: TokenStores & Signer, token: string) {
  try {
    const { payload } = await deps.keys.verify(token, { typ: 'at+jwt' });
    const record = typeof payload.jti === 'string' ? deps.accessTokens.get(payload.jti) : undefined;
    return record ? { jti: payload.jti!, record, claims: payload } : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 8693 §4.1: the `act` claim. `sub` acts now; a nested `act` acted before it. */
export interface Actor {
  sub: string;
  act?: Actor;
}

/**
 * Revoke every access token made by exchange from the token `jti`, and from those, at every
 * depth: an agent's token dies with the user's token it was made from.
 */
export function revokeDerived(stores: TokenStores, jti: string): void {
  for (const [child, issued] of stores.accessTokens.entries()) {
    if (issued.parent === jti) {
      stores.accessTokens.delete(child);
      revokeDerived(stores, child);
    }
  }
}

/** One live access token in the lineage tree, with the tokens exchanged from it. */
export interface LineageNode {
  jti: string;
  client: string;
  sub: string;
  scope: string;
  act?: Actor;
  task?: string;
  children: LineageNode[];
}

/**
 * The live access tokens as a forest: each token made by exchange under the token it came
 * from. What revoking a token takes with it is its subtree.
 */
export function lineage(stores: TokenStores): LineageNode[] {
  const entries = [...stores.accessTokens.entries()];
  const nodeOf = ([jti, token]: [string, AccessToken]): LineageNode => ({
    jti,
    client: token.clientId,
    sub: token.username,
    scope: token.scope,
    ...(token.act ? { act: token.act } : {}),
    ...(token.task ? { task: token.task.description } : {}),
    children: entries.filter(([, child]) => child.parent === jti).map(nodeOf),
  });
  const live = new Set(entries.map(([jti]) => jti));
  return entries.filter(([, token]) => !token.parent || !live.has(token.parent)).map(nodeOf);
}

/**
 * Revoke every access and refresh token issued from one code (RFC 9700 §4.14.2). Tokens made
 * from them by exchange carry the same code: they go too.
 */
export function revokeFamily(stores: TokenStores, code: string): void {
  for (const [jti, issued] of stores.accessTokens.entries()) {
    if (issued.code === code) stores.accessTokens.delete(jti);
  }
  for (const [token, issued] of stores.refreshTokens.entries()) {
    if (issued.code === code) stores.refreshTokens.delete(token);
  }
}

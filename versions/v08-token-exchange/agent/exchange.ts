// The agent at the AS's token endpoint: its own token (client_credentials, RFC 6749 §4.4), and
// a token to act for a user, traded for the user's (token exchange, RFC 8693 §2.1). Every call
// goes into the agent's log, which its home page shows.

import { decodeJwt } from 'jose';
import type { Call, Identity } from './identity.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface AsEndpoints {
  tokenEndpoint: string;
}

export interface ExchangeRequest {
  /** The token to act for: the user's, or the parent agent's for a sub-agent. */
  subjectToken: string;
  resource: string;
  scope: string;
  task?: { id: string; description: string };
}

export type TokenAnswer =
  | { ok: true; token: string; scope: string; expiresIn: number }
  | { ok: false; status: number; error: string; description: string };

/** POST to the token endpoint as `who`, with HTTP Basic (RFC 6749 §2.3.1). */
export async function tokenRequest(
  as: AsEndpoints,
  who: Identity,
  form: Record<string, string>,
  log: (call: Call) => void,
): Promise<TokenAnswer> {
  const basic = Buffer.from(
    `${encodeURIComponent(who.clientId)}:${encodeURIComponent(who.clientSecret)}`,
  ).toString('base64');
  const { status, body } = await send(as.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams(form),
  });
  const ok = status === 200 && typeof body.access_token === 'string';
  log({
    at: new Date().toISOString(),
    by: who.clientId,
    request: `POST ${as.tokenEndpoint} (${form.grant_type === TOKEN_EXCHANGE ? 'token exchange' : form.grant_type})`,
    status,
    outcome: ok
      ? body.scope === undefined
        ? 'its own token, no scope'
        : `scope "${String(body.scope)}"`
      : `${String(body.error)}: ${String(body.error_description ?? '')}`,
  });
  if (!ok) {
    return {
      ok: false,
      status,
      error: String(body.error ?? 'server_error'),
      description: String(body.error_description ?? ''),
    };
  }
  return {
    ok: true,
    token: body.access_token as string,
    scope: String(body.scope ?? ''),
    expiresIn: Number(body.expires_in),
  };
}

/**
 * RFC 8693 §2.1: the subject token (whom to act for), the agent's own token as the actor token
 * (who acts), the resource and the scope the task needs, and (lab) the task itself.
 */
export async function exchange(
  as: AsEndpoints,
  who: Identity,
  request: ExchangeRequest,
  log: (call: Call) => void,
  now: () => number = Date.now,
): Promise<TokenAnswer & { actorToken?: string }> {
  const actor = await actorTokenOf(as, who, log, now);
  if (!actor.ok) return actor;
  const answer = await tokenRequest(
    as,
    who,
    {
      grant_type: TOKEN_EXCHANGE,
      subject_token: request.subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      actor_token: actor.token,
      actor_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      resource: request.resource,
      scope: request.scope,
      ...(request.task ? { task_id: request.task.id, task: request.task.description } : {}),
    },
    log,
  );
  return { ...answer, actorToken: actor.token };
}

/**
 * One request from the agent, 5 s at most: the status (0 when nothing answered) and the JSON
 * body ({} when there was none).
 */
export async function send(
  url: string,
  init: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const response = await fetch(url, {
      ...init,
      headers: { accept: 'application/json', ...init.headers },
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, body };
  } catch {
    return {
      status: 0,
      body: { error: 'unreachable', error_description: `${url} did not answer.` },
    };
  }
}

/** The agent's own token, from client_credentials, reused until 10 s before it expires. */
export async function actorTokenOf(
  as: AsEndpoints,
  who: Identity,
  log: (call: Call) => void,
  now: () => number = Date.now,
): Promise<TokenAnswer> {
  if (who.own && who.own.expiresAt - 10_000 > now()) {
    return { ok: true, token: who.own.token, scope: '', expiresIn: 0 };
  }
  const answer = await tokenRequest(as, who, { grant_type: 'client_credentials' }, log);
  if (answer.ok) {
    const jti = String(decodeJwt(answer.token).jti);
    who.own = { token: answer.token, jti, expiresAt: now() + answer.expiresIn * 1000 };
  }
  return answer;
}

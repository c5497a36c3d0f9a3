// grant_type=urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693): an agent trades the
// token a user's client gave it (the subject token) for a token of its own to act for that
// user. The new token says who acts (`act`), is narrower (the task's scope, one API, a short
// life), and remembers the token it came from, so it dies with it.

import type { Client } from '../clients.ts';
import { OAuthError, oneParam } from '../errors.ts';
import { parseScope } from '../scopes.ts';
import type { Deps } from '../token.ts';
import { issueAccessToken, liveAccessToken, type Actor, type TokenResponse } from '../tokens.ts';

// RFC 8693 §3: the only token type this AS takes or gives.
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
// lab: an agent may hand its task to a sub-agent, which may not hand it on: two actors at most.
export const MAX_DELEGATION_DEPTH = 2;

const invalidRequest = (description: string) => new OAuthError('invalid_request', description);

export async function tokenExchange(
  body: Record<string, unknown>,
  client: Client,
  deps: Deps,
): Promise<TokenResponse> {
  const profile = client.profile;
  if (!profile) throw new OAuthError('unauthorized_client', `${client.clientId} is no agent.`);

  // RFC 8693 §2.1: subject_token and its type are required; an actor_token_type comes with an
  // actor_token and only then; the only type here is an access token.
  const subjectToken = oneParam(body, 'subject_token');
  const subjectType = oneParam(body, 'subject_token_type');
  const actorToken = oneParam(body, 'actor_token');
  const actorType = oneParam(body, 'actor_token_type');
  if (!subjectToken || !subjectType) {
    throw invalidRequest('subject_token and subject_token_type are required.');
  }
  if (subjectType !== ACCESS_TOKEN_TYPE) {
    throw invalidRequest(`This server exchanges only tokens of type ${ACCESS_TOKEN_TYPE}.`);
  }
  if (Boolean(actorToken) !== Boolean(actorType)) {
    throw invalidRequest('actor_token and actor_token_type come together, or not at all.');
  }
  if (actorType !== undefined && actorType !== ACCESS_TOKEN_TYPE) {
    throw invalidRequest(`This server takes only actor tokens of type ${ACCESS_TOKEN_TYPE}.`);
  }
  const requestedType = oneParam(body, 'requested_token_type');
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    throw invalidRequest(`This server issues only tokens of type ${ACCESS_TOKEN_TYPE}.`);
  }

  // Whom it acts for: a live token this AS issued, not revoked, not expired (§2.2.2).
  const subject = await liveAccessToken(deps, subjectToken);
  if (!subject) throw invalidRequest('The subject_token is invalid, expired or revoked.');
  // Who acts: the caller, authenticated by its secret. An actor token, if sent, must be the
  // caller's own (lab), or a stolen agent token would let one agent act as another.
  if (actorToken) {
    const actor = await liveAccessToken(deps, actorToken);
    if (!actor) throw invalidRequest('The actor_token is invalid, expired or revoked.');
    if (actor.record.clientId !== client.clientId || actor.record.username !== client.clientId) {
      throw invalidRequest(`The actor_token is not ${client.clientId}'s own token.`);
    }
  }
  // RFC 8693 §4.1: the new actor outermost; an earlier `act` nests inside it.
  const act: Actor = subject.record.act
    ? { sub: client.clientId, act: subject.record.act }
    : { sub: client.clientId };
  if (depthOf(act) > MAX_DELEGATION_DEPTH) {
    throw invalidRequest(`Delegation deeper than ${MAX_DELEGATION_DEPTH} agents is refused.`);
  }

  // The audience: one registered resource the subject token is for and the agent may reach.
  // RFC 8693 §2.1: `resource` and `audience` may each repeat; lab: one target per token, so
  // naming several is §2.2.2's invalid_target.
  const asked = new Set(
    ['resource', 'audience'].flatMap((name) =>
      [body[name] ?? []].flat().filter((value) => typeof value === 'string' && value !== ''),
    ) as string[],
  );
  if (asked.size > 1) {
    throw new OAuthError(
      'invalid_target',
      'This server issues a token for one resource at a time.',
    );
  }
  const target = [...asked][0] ?? subject.record.resources[0];
  if (
    !target ||
    !subject.record.resources.includes(target) ||
    !profile.audiences.includes(target)
  ) {
    throw new OAuthError('invalid_target', 'The token may not be for that resource.');
  }

  // The scope: what the task asks for, within both what the user granted and what this agent
  // may ever hold. lab: invalid_scope (RFC 8693 §2.2.2 allows it) when it asks for more.
  const subjectScopes = subject.record.scope.split(' ');
  const allowed = subjectScopes.filter((scope) => profile.scopes.includes(scope));
  const scopeParam = oneParam(body, 'scope');
  const scopes = scopeParam === undefined ? allowed : parseScope(scopeParam);
  if (scopes.length === 0 || scopes.some((scope) => !allowed.includes(scope))) {
    throw new OAuthError(
      'invalid_scope',
      `The scope must be within the subject token's (${subject.record.scope}) and ${client.clientId}'s (${profile.scopes.join(' ')}).`,
    );
  }

  // lab: the task the token is for, bound into it: set by the first exchange, inherited after.
  const task = subject.record.task ?? readTask(body);

  // No longer than the token it came from: revoking or outliving the user's token ends it too.
  const subjectLeftMs = Number(subject.claims.exp) * 1000 - deps.now();
  const lifetimeMs = Math.min(deps.accessTokens.ttlMs, subjectLeftMs);
  if (lifetimeMs <= 0) throw invalidRequest('The subject_token is invalid, expired or revoked.');
  const record = {
    clientId: client.clientId,
    username: subject.record.username,
    scope: scopes.join(' '),
    resources: [target],
    issuedAt: new Date(deps.now()).toISOString(),
    code: subject.record.code,
    parent: subject.jti,
    act,
    ...(task ? { task } : {}),
  };
  const access = issueAccessToken(deps, record, {
    audience: [target],
    lifetimeMs,
    claims: { act, ...(task ? { task_id: task.id, task: task.description } : {}) },
  });
  // RFC 8693 §2.2.1: issued_token_type; no refresh token (lab: the agent exchanges again).
  return {
    access_token: await access.sign(),
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
    scope: record.scope,
  };
}

/** How many actors an `act` claim names, the outermost included. */
export function depthOf(act: Actor | undefined): number {
  return act ? 1 + depthOf(act.act) : 0;
}

/** lab: task_id and task (a description), for the first exchange of a task. */
function readTask(body: Record<string, unknown>) {
  const id = oneParam(body, 'task_id');
  const description = oneParam(body, 'task');
  if (id === undefined && description === undefined) return undefined;
  if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id) || !description || description.length > 200) {
    throw invalidRequest(
      'task_id (up to 64 letters, digits, - or _) and task (up to 200 characters) come together.',
    );
  }
  return { id, description };
}

// AI agents (v08+) for the attack script and its tests: a task run with the lab's agent the way
// a user runs one (the client's task form), and token exchanges (RFC 8693 §2.1) built from
// their parts, on token.ts.

import { decodeJwt } from 'jose';
import type { RunningLab } from '../../shared/lab.ts';
import type { Browser } from './browser.ts';
import { submitClientForm } from './flow.ts';
import { clientState, type AgentState } from './state.ts';
import {
  ACCESS_TOKEN_TYPE,
  actFor,
  TOKEN_EXCHANGE,
  tokenExchange,
  type Credentials,
} from './token.ts';

/** Whether the AS offers token exchange: its metadata says so (RFC 8414 §2, v08+). */
export async function offersTokenExchange(lab: RunningLab<'as'>): Promise<boolean> {
  const answer = await fetch(`${lab.urls.as}/.well-known/oauth-authorization-server`);
  if (answer.status !== 200) return false;
  const metadata = (await answer.json()) as { grant_types_supported?: unknown };
  return Array.isArray(metadata.grant_types_supported)
    ? metadata.grant_types_supported.includes(TOKEN_EXCHANGE)
    : false;
}

export interface Exchange {
  /** The token to act for: the user's, or a parent agent's. */
  subject: string;
  /** The caller's own token, sent as the actor token with its type; none when absent. */
  actor?: string;
  scope?: string;
  resource?: string;
  /** Any other parameters (task_id and task, say). */
  extra?: Record<string, string>;
}

/**
 * POST /token with a token exchange request (RFC 8693 §2.1) as `who`, built from its parts.
 * `auth` as for tokenExchange (default: `who`'s Basic credentials; null for none).
 */
export function postExchange(
  lab: RunningLab<'as'>,
  who: Credentials,
  { subject, actor, scope, resource, extra = {} }: Exchange,
  auth?: string | null,
) {
  const params = {
    subject_token: subject,
    subject_token_type: ACCESS_TOKEN_TYPE,
    ...(actor ? { actor_token: actor, actor_token_type: ACCESS_TOKEN_TYPE } : {}),
    scope,
    resource,
    ...extra,
  };
  return tokenExchange(lab, who, params, auth);
}

/**
 * What the lab's agent does for `who` (actFor in token.ts): exchange `subject` for `scope` at
 * the lab's API, with its own token as the actor token. The new token; throws if refused.
 */
export async function exchangeAs(
  lab: RunningLab<'as' | 'rs'>,
  who: Credentials,
  subject: string,
  scope: string,
): Promise<string> {
  const answer = await actFor(lab, who, subject, { scope });
  if (answer.status !== 200) {
    throw new Error(`exchange refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.access_token as string;
}

/** The agent's answer to a task (agent/index.ts TaskOutcome): the chain starts with the user's. */
export type AgentOutcome = AgentState['outcomes'][number];

/**
 * Run a task (summarise, add-note, summarise-with-helper) as the user of `browser` does: the
 * client's task form. The client hands the task and the user's token to the agent; the agent's
 * answer, as the client keeps it to show once. Throws when the client got no answer.
 */
export async function runAgentTask(
  lab: RunningLab<'client'>,
  browser: Browser,
  task: string,
): Promise<{ status: number; body: AgentOutcome }> {
  const page = await submitClientForm(lab, browser, '/tasks', { task });
  if (page.status !== 303) throw new Error(`the client refused the task: ${page.status}`);
  const session = (await clientState(lab, browser)).yourSession as {
    taskOutcome?: { status: number; body: AgentOutcome };
  };
  if (!session.taskOutcome) throw new Error('the client has no answer from the agent');
  return session.taskOutcome;
}

/** The token `clientId` acted with in an agent's answer: the one it got by exchange. */
export function actingToken(outcome: AgentOutcome, clientId: string): string {
  const link = outcome.chain.find(({ token }) => {
    const claims = decodeJwt(token);
    return claims.client_id === clientId && claims.act !== undefined;
  });
  if (!link) throw new Error(`${clientId} holds no exchanged token in this chain`);
  return link.token;
}

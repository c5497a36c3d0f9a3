// Tasks for the AI agent: the client hands the agent a task and the user's access token, on
// the back channel. The agent exchanges that token for a narrower one of its own (RFC 8693)
// and answers with the result and every token of the chain, which the home page decodes.

import { randomBytes } from 'node:crypto';
import type { Request } from 'express';
import { backChannel, type BackChannelResult } from './back-channel.ts';
import { refreshTokens, type Refreshing } from './refresh.ts';

/** The tasks the client offers, by the name the agent knows them by (agent/tasks.ts). */
export const TASK_BUTTONS = [
  { name: 'summarise', label: 'Summarise my notes', needs: 'notes:read' },
  { name: 'add-note', label: 'Add a note reminding me to stretch', needs: 'notes:write' },
  {
    name: 'summarise-with-helper',
    label: 'Summarise my notes, with a helper to read them',
    needs: 'notes:read, through a sub-agent',
  },
];

/** Send a task to the agent; if the agent says the user's token is dead, refresh and retry once. */
export async function runTask(
  req: Request,
  refreshing: Refreshing,
  agentUrl: string,
  task: string,
): Promise<BackChannelResult | undefined> {
  const taskId = randomBytes(6).toString('base64url');
  const send = (accessToken: string) =>
    backChannel(req, {
      method: 'POST',
      url: `${agentUrl}/tasks`,
      headers: { Authorization: `Bearer ${accessToken}` },
      form: { task, task_id: taskId },
      to: 'Agent',
      titles: {
        request: 'Task for the agent: the client hands over the task and the user’s token',
        ok: 'The agent’s answer: the result, and the tokens it went through',
        failed: 'The agent could not do the task',
      },
    });
  const accessToken = refreshing.tokens.get(req.sessionID)?.access_token;
  if (!accessToken) return undefined;
  const first = await send(accessToken);
  if (first.status !== 401) return first;
  const refreshed = await refreshTokens(req, refreshing);
  return refreshed.ok ? send(refreshed.tokens.access_token) : first;
}

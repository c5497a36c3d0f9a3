// What NOT to do, for the tests and the attack script only, never in the product: an AI agent
// that takes the user's access token from the client and uses it as it is, the way an agent
// works before token exchange (v07). It does its task, and holds everything the user granted
// the client, at every audience the token names: its own code, a bug, or a prompt injection in
// a note it reads can use all of it, and the API sees only the user's client. v08's agent
// exchanges the token for one with the task's scope, for the API alone, naming itself in `act`.

import type http from 'node:http';
import { urlFor } from '../../shared/config.ts';
import { closeServer, listen, portOf } from '../../shared/listen.ts';

export interface NaiveAgent {
  url: string;
  /** Every token a client handed it, kept (as a real agent keeps what it is given). */
  received: string[];
  close(): Promise<void>;
}

/** What its POST /tasks answers. */
export interface NaiveOutcome {
  task: string;
  result?: string;
  error?: string;
}

// RFC 6750 §2.1: b64token syntax; the scheme name is case-insensitive.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Start the agent on a free port. `apiUrl` is the notes API it works with. Its one skill,
 * POST /tasks with `task=summarise` and the user's token as a Bearer token: it reads the
 * notes with that token and counts them.
 */
export async function startNaiveAgent(apiUrl: string): Promise<NaiveAgent> {
  const server = await listen('agent', 0);
  const agent: NaiveAgent = {
    url: urlFor(portOf(server)),
    received: [],
    close: () => closeServer(server),
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const answer = (status: number, body: NaiveOutcome) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let form = '';
    for await (const chunk of req) form += String(chunk);
    const task = new URLSearchParams(form).get('task') ?? '';
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (req.method !== 'POST' || req.url !== '/tasks' || task !== 'summarise' || !token) {
      return answer(400, { task, error: 'POST /tasks, task=summarise, a Bearer token.' });
    }
    agent.received.push(token);
    // The whole "exchange": none. The user's token goes to the API as it came.
    const read = await fetch(`${apiUrl}/api/notes`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    if (read.status !== 200)
      return answer(502, { task, error: `The API answered ${read.status}.` });
    const { notes } = (await read.json()) as { notes: Array<{ text: string }> };
    answer(200, { task, result: `You have ${notes.length} note(s).` });
  };
  server.on('request', (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  return agent;
}

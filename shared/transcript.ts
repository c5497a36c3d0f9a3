// The flow transcript: what crossed the wire, hop by hop, kept in the user's session so the
// pages can show a learner exactly what happened (secrets included: this is a lab).

import type { Request } from 'express';

export interface Hop {
  /** When it happened, ISO 8601. */
  at: string;
  /** Who sent it to whom, e.g. "Client → Browser → Authorization Server". */
  path: string;
  /** One line: what this hop is for. */
  title: string;
  /** Method and URL of the request, or the status line of a response. */
  line: string;
  /** Parameters (query, form or JSON fields), shown as a table. */
  params?: Record<string, unknown>;
  /** Front channel (through the browser) or back channel (server to server). */
  channel: 'front' | 'back';
}

const MAX_HOPS = 30;

declare module 'express-session' {
  interface SessionData {
    transcript?: Hop[];
  }
}

/** Start a new transcript: a new flow begins. */
export function startTranscript(req: Request): void {
  req.session.transcript = [];
}

export function recordHop(req: Request, hop: Omit<Hop, 'at'>): void {
  const hops = req.session.transcript ?? [];
  hops.push({ at: new Date().toISOString(), ...hop });
  req.session.transcript = hops.slice(-MAX_HOPS);
}

export function transcriptOf(req: Request): Hop[] {
  return req.session.transcript ?? [];
}

/** The query parameters of a URL, as a plain object (repeated names become arrays). */
export function queryOf(url: string | URL): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [key, value] of new URL(url).searchParams) {
    const seen = params[key];
    params[key] = seen === undefined ? value : [...[seen].flat(), value];
  }
  return params;
}

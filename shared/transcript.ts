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

// A transcript lives in the session, so it is bounded like everything a session holds: the
// last 30 hops, each value cut to 2,000 characters (a request can carry far more), and 24 kB
// in all, dropping the oldest hops first.
const MAX_HOPS = 30;
const MAX_VALUE_CHARS = 2_000;
const MAX_TRANSCRIPT_BYTES = 24 * 1024;

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
  const hops = [...(req.session.transcript ?? []), cut({ at: new Date().toISOString(), ...hop })];
  while (
    hops.length > MAX_HOPS ||
    (hops.length > 1 && Buffer.byteLength(JSON.stringify(hops)) > MAX_TRANSCRIPT_BYTES)
  ) {
    hops.shift();
  }
  const [only] = hops;
  if (hops.length === 1 && Buffer.byteLength(JSON.stringify(hops)) > MAX_TRANSCRIPT_BYTES) {
    only!.params = { note: 'Too large to keep in the transcript.' };
  }
  req.session.transcript = hops;
}

/** A hop with every long string shortened, saying how much was left out. */
function cut(hop: Hop): Hop {
  const shorten = (value: unknown): unknown => {
    if (typeof value === 'string' && value.length > MAX_VALUE_CHARS) {
      return `${value.slice(0, MAX_VALUE_CHARS)}… (${value.length - MAX_VALUE_CHARS} more characters)`;
    }
    if (Array.isArray(value)) return value.slice(0, 20).map(shorten);
    if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value).slice(0, 50);
      return Object.fromEntries(entries.map(([key, inner]) => [key, shorten(inner)]));
    }
    return value;
  };
  return shorten(hop) as Hop;
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

// A session store for express-session backed by the lab's expiring Store.
//
// express-session's default MemoryStore is documented as leaking memory and not meant for
// production; this one drops each session when its idle lifetime ends and sweeps them away.

import session from 'express-session';
import { Store } from './store.ts';

export class ExpiringSessionStore extends session.Store {
  // Sessions are stored as JSON text so every request gets a fresh copy, as with a real store.
  readonly sessions: Store<string>;

  constructor(ttlMs: number, now?: () => number) {
    super();
    this.sessions = new Store<string>({ ttlMs, maxEntries: 5_000, ...(now ? { now } : {}) });
  }

  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void) {
    const json = this.sessions.get(sid);
    callback(null, json === undefined ? null : (JSON.parse(json) as session.SessionData));
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void) {
    this.sessions.set(sid, JSON.stringify(data));
    callback?.();
  }

  override touch(sid: string, data: session.SessionData, callback?: () => void) {
    this.set(sid, data);
    callback?.();
  }

  override destroy(sid: string, callback?: (err?: unknown) => void) {
    this.sessions.delete(sid);
    callback?.();
  }

  /** Every live session, parsed, for the debug pages. */
  list(): Record<string, unknown> {
    return Object.fromEntries(
      this.sessions.entries().map(([sid, json]) => [sid, JSON.parse(json)]),
    );
  }

  close(): void {
    this.sessions.close();
  }
}

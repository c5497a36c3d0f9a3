// A session store for express-session backed by the lab's expiring Store.
//
// express-session's default MemoryStore is documented as leaking memory and not meant for
// production. This one bounds memory per session and in total, and keeps two pools:
// - anonymous sessions (nobody has logged in yet): cheap, short-lived, and the oldest are
//   dropped when there are too many, so a flood of cookie-less requests costs only other
//   anonymous sessions, never a logged-in user's;
// - signed-in sessions: never dropped to make room. When they fill their share of memory, a
//   new login fails with a clear 503 instead (fail closed).
// A session is signed in once the app has called renewSession() for it: when a login completes.

import type { Request } from 'express';
import session from 'express-session';
import { Store, StoreFullError } from './store.ts';

declare module 'express-session' {
  interface SessionData {
    /** When a login completed in this session (renewSession); absent: anonymous. */
    signedInAt?: string;
  }
}

export interface SessionStoreOptions {
  /** Idle lifetime of a signed-in session, in milliseconds. */
  ttlMs: number;
  /** Idle lifetime of an anonymous session; default 10 minutes (at most ttlMs). */
  anonymousTtlMs?: number;
  /** Most bytes one session may hold; default 64 kB. */
  maxSessionBytes?: number;
  /** Most anonymous sessions kept at once; default 2,000, and 8 MB. */
  maxAnonymous?: number;
  /** Most bytes all signed-in sessions may hold together; default 64 MB. */
  maxSignedInBytes?: number;
  /** Clock, replaceable in tests. */
  now?: () => number;
}

// How long a destroyed session id stays refused. A request that loaded the session before it
// was destroyed (a page load racing "Log out") ends within its back-channel timeouts, well
// inside this, and must not write the session back to life when it does.
const DESTROYED_TTL_MS = 60_000;

const bytesOf = (json: string) => Buffer.byteLength(json);

export class ExpiringSessionStore extends session.Store {
  // Sessions are stored as JSON text so every request gets a fresh copy, as with a real store.
  readonly #anonymous: Store<string>;
  readonly #signedIn: Store<string>;
  readonly #destroyed: Store<true>;
  readonly #maxSessionBytes: number;

  constructor(options: SessionStoreOptions) {
    super();
    const { ttlMs, now } = options;
    this.#maxSessionBytes = options.maxSessionBytes ?? 64 * 1024;
    this.#anonymous = new Store<string>({
      ttlMs: Math.min(options.anonymousTtlMs ?? 10 * 60_000, ttlMs),
      maxEntries: options.maxAnonymous ?? 2_000,
      maxBytes: 8 * 1024 * 1024,
      sizeOf: bytesOf,
      whenFull: 'evict-oldest',
      now,
    });
    this.#signedIn = new Store<string>({
      ttlMs,
      maxEntries: 100_000,
      maxBytes: options.maxSignedInBytes ?? 64 * 1024 * 1024,
      sizeOf: bytesOf,
      now,
    });
    this.#destroyed = new Store<true>({ ttlMs: DESTROYED_TTL_MS, maxEntries: 100_000, now });
  }

  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void) {
    const json = this.#signedIn.get(sid) ?? this.#anonymous.get(sid);
    callback(null, json === undefined ? null : (JSON.parse(json) as session.SessionData));
  }

  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void) {
    // A request that was already running when its session was destroyed does not bring it back.
    if (this.#destroyed.has(sid)) return callback?.();
    const json = JSON.stringify(data);
    if (bytesOf(json) > this.#maxSessionBytes) {
      return callback?.(
        new StoreFullError(
          `A session may hold ${this.#maxSessionBytes} bytes; this one is larger.`,
        ),
      );
    }
    const [pool, other] = data.signedInAt
      ? [this.#signedIn, this.#anonymous]
      : [this.#anonymous, this.#signedIn];
    try {
      pool.set(sid, json);
    } catch (err) {
      return callback?.(err);
    }
    other.delete(sid);
    callback?.();
  }

  /** Keep a session alive a while longer. Only its expiry changes: its data is never written. */
  override touch(sid: string, _data: session.SessionData, callback?: () => void) {
    if (!this.#signedIn.touch(sid)) this.#anonymous.touch(sid);
    callback?.();
  }

  override destroy(sid: string, callback?: (err?: unknown) => void) {
    try {
      // Fail closed: if the id cannot be remembered as destroyed, the session stays, and the
      // logout answers 503, rather than leave a racing request able to bring it back.
      this.#destroyed.set(sid, true);
    } catch (err) {
      return callback?.(err);
    }
    this.#signedIn.delete(sid);
    this.#anonymous.delete(sid);
    callback?.();
  }

  /** Every live session, parsed, for the debug pages: signed-in ones first. */
  list(): Record<string, unknown> {
    return Object.fromEntries(
      [...this.#signedIn.entries(), ...this.#anonymous.entries()].map(([sid, json]) => [
        sid,
        JSON.parse(json),
      ]),
    );
  }

  /** How many sessions of each kind there are, and the bytes they hold, for the debug pages. */
  stats() {
    return {
      signedIn: { sessions: this.#signedIn.size, bytes: this.#signedIn.bytes },
      anonymous: { sessions: this.#anonymous.size, bytes: this.#anonymous.bytes },
    };
  }

  close(): void {
    this.#anonymous.close();
    this.#signedIn.close();
    this.#destroyed.close();
  }
}

/**
 * Give this browser a new session id with `data` in it, marked signed in, and save it. Apps
 * call it when a login completes: a session id planted in the browser beforehand (session
 * fixation, by a page on another localhost port, say) is then worth nothing. The old session
 * is destroyed.
 */
export function renewSession(req: Request, data: Partial<session.SessionData>): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => {
      if (err) return reject(err as Error);
      Object.assign(req.session, data, { signedInAt: new Date().toISOString() });
      req.session.save((saveErr) => (saveErr ? reject(saveErr as Error) : resolve()));
    });
  });
}

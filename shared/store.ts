// An in-memory key/value store with per-entry expiry, the only storage the lab uses.
//
// Every entry has a time-to-live. Expired entries are never returned, and a periodic sweep
// deletes them so memory does not grow with traffic. Each store is bounded in entries (and,
// when told how to measure them, in bytes). A full store refuses new entries: it never
// pushes out an older one to make room unless it was built to (`whenFull: 'evict-oldest'`),
// because a flood must not be able to evict what a security check relies on (a used code,
// a rotated refresh token, a logged-in session).

export interface StoreOptions<V> {
  /** Default lifetime of an entry, in milliseconds. `Infinity` keeps entries until deleted. */
  ttlMs: number;
  /** How often expired entries are swept away, in milliseconds. */
  sweepMs?: number;
  /** Most entries kept at once; default 10,000. */
  maxEntries?: number;
  /** Most bytes kept at once, as measured by `sizeOf`; default: no limit in bytes. */
  maxBytes?: number;
  /** The size of a value in bytes, for `maxBytes`. */
  sizeOf?: (value: V) => number;
  /**
   * What a full store does with a new entry. 'refuse' (the default) throws StoreFullError and
   * keeps everything it holds. 'evict-oldest' drops the least recently written entries to
   * make room: only for entries whose loss is harmless, such as anonymous sessions.
   */
  whenFull?: 'refuse' | 'evict-oldest';
  /** Clock, replaceable in tests (see SweepingClock). */
  now?: () => number;
}

/**
 * A clock that moves by hand, in tests and benchmarks. When it has a `stores` set, every store
 * built on it joins the set, so that moving the clock can sweep them all at once instead of
 * waiting for their timers.
 */
export type SweepingClock = (() => number) & { stores?: Set<Store<unknown>> };

/** A store is full and would have to drop something it must keep: fail closed, 503. */
export class StoreFullError extends Error {
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'StoreFullError';
  }
}

interface Entry<V> {
  value: V;
  expiresAt: number;
  size: number;
}

// A full store sweeps before it refuses, but at most this often: a flood must not turn every
// write into a walk over the whole store.
const SWEEP_WHEN_FULL_EVERY_MS = 1_000;

export class Store<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: ((value: V) => number) | undefined;
  readonly #evictOldest: boolean;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;
  #bytes = 0;
  #lastSweep = -Infinity;

  constructor(options: StoreOptions<V>) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#sizeOf = options.sizeOf;
    this.#evictOldest = options.whenFull === 'evict-oldest';
    this.#now = options.now ?? Date.now;
    (options.now as SweepingClock | undefined)?.stores?.add(this as Store<unknown>);
    if (Number.isFinite(options.ttlMs)) {
      this.#timer = setInterval(() => this.sweep(), options.sweepMs ?? 30_000);
      // A sweep timer must never keep a process (or a test run) alive on its own.
      this.#timer.unref();
    }
  }

  /** Store `value` under `key`. Throws StoreFullError when there is no room for it. */
  set(key: string, value: V, ttlMs: number = this.#ttlMs): void {
    const size = this.#sizeOf?.(value) ?? 0;
    if (size > this.#maxBytes) {
      throw new StoreFullError(`An entry of ${size} bytes is larger than this store allows.`);
    }
    const fits = () => {
      const old = this.#entries.get(key);
      const entries = this.#entries.size + (old ? 0 : 1);
      return entries <= this.#maxEntries && this.#bytes - (old?.size ?? 0) + size <= this.#maxBytes;
    };
    if (!fits() && this.#now() - this.#lastSweep >= SWEEP_WHEN_FULL_EVERY_MS) this.sweep();
    if (!fits()) {
      if (!this.#evictOldest) {
        throw new StoreFullError('The store is full, and nothing it holds may be dropped.');
      }
      for (const oldest of this.#entries.keys()) {
        if (fits()) break;
        if (oldest !== key) this.#remove(oldest);
      }
    }
    this.#remove(key); // re-insert so Map order stays least recently written first
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs, size });
    this.#bytes += size;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#remove(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Get and delete in one synchronous step: of two requests taking the same key, exactly one
   * gets the value. This is how single-use values (state, consent ids) are consumed.
   */
  take(key: string): V | undefined {
    const value = this.get(key);
    if (value !== undefined) this.#remove(key);
    return value;
  }

  delete(key: string): boolean {
    return this.#remove(key);
  }

  /** Give a live entry a new lifetime without changing its value. False when it is gone. */
  touch(key: string, ttlMs: number = this.#ttlMs): boolean {
    const value = this.get(key);
    if (value === undefined) return false;
    const { size } = this.#entries.get(key)!;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs, size });
    return true;
  }

  /** Milliseconds until `key` expires, or undefined when it is absent or expired. */
  expiresIn(key: string): number | undefined {
    const entry = this.#entries.get(key);
    if (!entry || entry.expiresAt <= this.#now()) return undefined;
    return entry.expiresAt - this.#now();
  }

  /** Live entries, for the debug pages. */
  entries(): Array<[string, V]> {
    const now = this.#now();
    const live: Array<[string, V]> = [];
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) live.push([key, entry.value]);
    }
    return live;
  }

  /** Live entries with the time each has left, as a plain object for the debug pages. */
  dump(): Record<string, unknown> {
    return Object.fromEntries(
      this.entries().map(([key, value]) => {
        const expiresInMs = this.expiresIn(key) ?? 0;
        if (!Number.isFinite(expiresInMs)) return [key, value];
        const isRecord = typeof value === 'object' && value !== null && !Array.isArray(value);
        return [key, isRecord ? { ...value, expiresInMs } : { value, expiresInMs }];
      }),
    );
  }

  /** The lifetime an entry gets unless set() is told otherwise. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  get size(): number {
    return this.entries().length;
  }

  /** Entries held in memory, expired ones not yet swept away included. */
  get held(): number {
    return this.#entries.size;
  }

  /** Bytes held, as measured by `sizeOf` (0 without it). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Delete every expired entry. Runs on a timer; callable directly in tests. */
  sweep(): number {
    const now = this.#now();
    this.#lastSweep = now;
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#remove(key);
        removed++;
      }
    }
    return removed;
  }

  /** Stop the sweep timer. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #remove(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#bytes -= entry.size;
    return this.#entries.delete(key);
  }
}

// An in-memory key/value store with per-entry expiry, the only storage the lab uses.
//
// Every entry has a time-to-live. Expired entries are never returned, and a periodic sweep
// deletes them so memory does not grow with traffic. A hard cap on the number of entries
// evicts the oldest ones first, so even a flood of requests inside one TTL stays bounded.

export interface StoreOptions {
  /** Default lifetime of an entry, in milliseconds. `Infinity` keeps entries until deleted. */
  ttlMs: number;
  /** How often expired entries are swept away, in milliseconds. */
  sweepMs?: number;
  /** Most entries kept at once; inserting beyond it evicts the oldest. */
  maxEntries?: number;
  /** Clock, replaceable in tests. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class Store<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: StoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
    if (Number.isFinite(options.ttlMs)) {
      this.#timer = setInterval(() => this.sweep(), options.sweepMs ?? 30_000);
      // A sweep timer must never keep a process (or a test run) alive on its own.
      this.#timer.unref();
    }
  }

  set(key: string, value: V, ttlMs: number = this.#ttlMs): void {
    this.#entries.delete(key); // re-insert so Map order stays oldest-first
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
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

  get size(): number {
    return this.entries().length;
  }

  /** Delete every expired entry. Runs on a timer; callable directly in tests. */
  sweep(): number {
    const now = this.#now();
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Stop the sweep timer. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

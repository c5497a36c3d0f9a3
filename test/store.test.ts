// shared/store.ts and shared/session-store.ts: entries expire, sweeps free memory, and the
// number of entries is capped.

import { describe, expect, it } from 'vitest';
import { ExpiringSessionStore } from '../shared/session-store.ts';
import { Store } from '../shared/store.ts';
import { manualClock } from './helpers/versions.ts';

describe('Store', () => {
  it('returns an entry until its TTL runs out, then never again', () => {
    const clock = manualClock();
    const store = new Store<string>({ ttlMs: 1000, now: clock.now });
    store.set('a', 'one');
    clock.advance(999);
    expect(store.get('a')).toBe('one');
    expect(store.expiresIn('a')).toBe(1);
    clock.advance(1);
    expect(store.get('a')).toBeUndefined();
    expect(store.has('a')).toBe(false);
    store.close();
  });

  it('honours a per-entry TTL', () => {
    const clock = manualClock();
    const store = new Store<number>({ ttlMs: 1000, now: clock.now });
    store.set('short', 1, 10);
    store.set('long', 2);
    clock.advance(10);
    expect(store.entries()).toEqual([['long', 2]]);
    store.close();
  });

  it('sweeps expired entries out of memory', () => {
    const clock = manualClock();
    const store = new Store<number>({ ttlMs: 100, now: clock.now });
    for (let i = 0; i < 50; i++) store.set(`k${i}`, i);
    clock.advance(100);
    store.set('fresh', 1);
    expect(store.sweep()).toBe(50);
    expect(store.size).toBe(1);
    store.close();
  });

  it('evicts the oldest entries beyond maxEntries', () => {
    const store = new Store<number>({ ttlMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 5; i++) store.set(`k${i}`, i);
    expect(store.entries().map(([key]) => key)).toEqual(['k2', 'k3', 'k4']);
    store.close();
  });

  it('deletes', () => {
    const store = new Store<number>({ ttlMs: Infinity });
    store.set('a', 1);
    expect(store.delete('a')).toBe(true);
    expect(store.get('a')).toBeUndefined();
    store.close();
  });
});

describe('ExpiringSessionStore', () => {
  const data = { cookie: { originalMaxAge: 1000 } } as never;

  it('stores copies and drops sessions after their idle lifetime', async () => {
    const clock = manualClock();
    const store = new ExpiringSessionStore(1000, clock.now);
    store.set('sid', data);
    const read = () =>
      new Promise<unknown>((resolve) => store.get('sid', (_err, session) => resolve(session)));
    expect(await read()).toEqual(data);
    expect(await read()).not.toBe(await read());
    expect(Object.keys(store.list())).toEqual(['sid']);
    clock.advance(1000);
    expect(await read()).toBeNull();
    store.close();
  });

  it('touch extends a session, destroy ends it', async () => {
    const clock = manualClock();
    const store = new ExpiringSessionStore(1000, clock.now);
    store.set('sid', data);
    clock.advance(900);
    store.touch('sid', data);
    clock.advance(900);
    expect(Object.keys(store.list())).toEqual(['sid']);
    store.destroy('sid');
    expect(store.list()).toEqual({});
    store.close();
  });
});

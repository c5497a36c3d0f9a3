// shared/store.ts and shared/session-store.ts: entries expire, sweeps free memory, and memory
// is bounded without ever pushing out what a security check needs.

import { describe, expect, it } from 'vitest';
import { ExpiringSessionStore } from '../shared/session-store.ts';
import { Store, StoreFullError } from '../shared/store.ts';
import { manualClock } from '../scripts/lib/lab.ts';

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
    let time = 0;
    const store = new Store<number>({ ttlMs: 100, now: () => time });
    for (let i = 0; i < 50; i++) store.set(`k${i}`, i);
    time += 100;
    store.set('fresh', 1);
    expect(store.held).toBe(51);
    expect(store.sweep()).toBe(50);
    expect(store.held).toBe(1);
    expect(store.size).toBe(1);
    store.close();
  });

  it('a clock moved by hand sweeps every store built on it', () => {
    const clock = manualClock();
    const stores = [1, 2].map(() => new Store<number>({ ttlMs: 100, now: clock.now }));
    stores.forEach((store) => store.set('a', 1));
    expect([...clock.stores]).toEqual(stores);
    clock.advance(100);
    expect(stores.map((store) => store.held)).toEqual([0, 0]);
    stores.forEach((store) => store.close());
  });

  it('when full, refuses a new entry and keeps every old one (fail closed)', () => {
    const store = new Store<number>({ ttlMs: 60_000, maxEntries: 3 });
    for (let i = 0; i < 3; i++) store.set(`k${i}`, i);
    expect(() => store.set('k3', 3)).toThrow(StoreFullError);
    expect(store.entries().map(([key]) => key)).toEqual(['k0', 'k1', 'k2']);
    store.set('k0', 10); // replacing an entry needs no room
    expect(store.get('k0')).toBe(10);
    store.close();
  });

  it('when full, makes room from expired entries before refusing', () => {
    const clock = manualClock();
    const store = new Store<number>({ ttlMs: 100, maxEntries: 2, now: clock.now });
    store.set('old', 1);
    store.set('young', 2, 10_000);
    clock.advance(2_000);
    store.set('new', 3);
    expect(store.entries().map(([key]) => key)).toEqual(['young', 'new']);
    store.close();
  });

  it('evicts the least recently written entries only when built to', () => {
    const store = new Store<number>({ ttlMs: 60_000, maxEntries: 3, whenFull: 'evict-oldest' });
    for (let i = 0; i < 5; i++) store.set(`k${i}`, i);
    expect(store.entries().map(([key]) => key)).toEqual(['k2', 'k3', 'k4']);
    store.touch('k2');
    store.set('k5', 5);
    expect(store.entries().map(([key]) => key)).toEqual(['k4', 'k2', 'k5']);
    store.close();
  });

  it('bounds the bytes it holds, as measured by sizeOf', () => {
    const store = new Store<string>({
      ttlMs: 60_000,
      maxBytes: 10,
      sizeOf: (value) => value.length,
    });
    store.set('a', '12345');
    store.set('b', '1234');
    expect(() => store.set('c', '12')).toThrow(StoreFullError);
    expect(() => store.set('d', '12345678901')).toThrow(/larger than this store allows/);
    store.set('a', '1'); // shrinking an entry frees its bytes
    store.set('c', '12');
    expect(store.bytes).toBe(7);
    store.close();
  });

  it('takes a value once: of two takes, exactly one gets it', () => {
    const store = new Store<string>({ ttlMs: 60_000 });
    store.set('state', 'flow');
    expect([store.take('state'), store.take('state')]).toEqual(['flow', undefined]);
    store.close();
  });

  it('touch gives a live entry a new lifetime and cannot revive an expired one', () => {
    const clock = manualClock();
    const store = new Store<number>({ ttlMs: 100, now: clock.now });
    store.set('a', 1);
    clock.advance(90);
    expect(store.touch('a')).toBe(true);
    clock.advance(90);
    expect(store.get('a')).toBe(1);
    clock.advance(10);
    expect(store.touch('a')).toBe(false);
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
  const data = (extra: Record<string, unknown> = {}) =>
    ({ cookie: { originalMaxAge: 1000 }, ...extra }) as never;
  const read = (store: ExpiringSessionStore, sid: string) =>
    new Promise<unknown>((resolve) => store.get(sid, (_err, session) => resolve(session)));
  const save = (store: ExpiringSessionStore, sid: string, session: unknown) =>
    new Promise<unknown>((resolve) => store.set(sid, session as never, resolve));

  it('stores copies and drops sessions after their idle lifetime', async () => {
    const clock = manualClock();
    const store = new ExpiringSessionStore({ ttlMs: 1000, now: clock.now });
    store.set('sid', data());
    expect(await read(store, 'sid')).toEqual(data());
    expect(await read(store, 'sid')).not.toBe(await read(store, 'sid'));
    expect(Object.keys(store.list())).toEqual(['sid']);
    clock.advance(1000);
    expect(await read(store, 'sid')).toBeNull();
    store.close();
  });

  it('touch extends a session without writing its data; destroy ends it', async () => {
    const clock = manualClock();
    const store = new ExpiringSessionStore({ ttlMs: 1000, now: clock.now });
    store.set('sid', data({ tokens: 'new' }));
    clock.advance(900);
    store.touch('sid', data({ tokens: 'stale copy' }));
    clock.advance(900);
    expect(await read(store, 'sid')).toEqual(data({ tokens: 'new' }));
    store.destroy('sid');
    expect(store.list()).toEqual({});
    store.close();
  });

  it('a destroyed session is not written back by a request that was still running', async () => {
    const store = new ExpiringSessionStore({ ttlMs: 60_000 });
    store.set('sid', data({ signedInAt: 'now' }));
    store.destroy('sid');
    await save(store, 'sid', data({ signedInAt: 'now' }));
    expect(await read(store, 'sid')).toBeNull();
    store.close();
  });

  it('a flood of anonymous sessions pushes out only anonymous ones', async () => {
    const store = new ExpiringSessionStore({
      ttlMs: 60_000,
      maxAnonymous: 50,
    });
    store.set('alice', data({ signedInAt: 'now' }));
    store.set('early-visitor', data());
    for (let i = 0; i < 500; i++) store.set(`flood-${i}`, data());
    expect(await read(store, 'alice')).toEqual(data({ signedInAt: 'now' }));
    expect(await read(store, 'early-visitor')).toBeNull();
    expect(store.stats().anonymous.sessions).toBe(50);
    store.close();
  });

  it('refuses a session larger than its limit, keeping the last good copy', async () => {
    const store = new ExpiringSessionStore({ ttlMs: 60_000, maxSessionBytes: 1_000 });
    store.set('sid', data({ note: 'small' }));
    const err = await save(store, 'sid', data({ note: 'x'.repeat(2_000) }));
    expect(err).toBeInstanceOf(StoreFullError);
    expect(await read(store, 'sid')).toEqual(data({ note: 'small' }));
    store.close();
  });

  it('when signed-in sessions fill their memory, a new one is refused, none is dropped', async () => {
    const store = new ExpiringSessionStore({
      ttlMs: 60_000,
      maxSignedInBytes: 1_000,
    });
    let refused: unknown;
    for (let i = 0; i < 30 && !refused; i++) {
      refused = await save(store, `user-${i}`, data({ signedInAt: `login ${i}` }));
    }
    expect(refused).toBeInstanceOf(StoreFullError);
    expect((refused as StoreFullError).status).toBe(503);
    expect(await read(store, 'user-0')).toEqual(data({ signedInAt: 'login 0' }));
    store.close();
  });
});

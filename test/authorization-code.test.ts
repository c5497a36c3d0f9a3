// The authorization code: random, short-lived, bound to who asked for it and where it goes
// (RFC 6749 §4.1.2, §10.10).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { runFlow } from '../scripts/lib/flow.ts';
import { manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState } from '../scripts/lib/state.ts';

describe.each(versionsFrom('v01'))('%s: the authorization code', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  it('is at least 128 bits of base64url randomness, new for every flow', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { params } = await runFlow(lab, { land: false });
      const code = params.get('code')!;
      expect(code).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(code, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      codes.add(code);
    }
    expect(codes.size).toBe(5);
  });

  it('is bound to the client, the redirect_uri and the user', async () => {
    const { params } = await runFlow(lab, { username: 'user1' });
    const grant = (await asState(lab)).codes[params.get('code')!];
    expect(grant).toMatchObject({
      clientId: 'demo-client',
      redirectUri: `${lab.urls.client}/callback`,
      username: 'user1',
    });
  });

  it('expires after 60 seconds', async () => {
    const { params } = await runFlow(lab);
    const code = params.get('code')!;
    const grant = (await asState(lab)).codes[code];
    expect(grant?.expiresInMs).toBeGreaterThan(0);
    expect(grant?.expiresInMs).toBeLessThanOrEqual(60_000);

    clock.advance(59_000);
    expect((await asState(lab)).codes[code]).toBeDefined();
    clock.advance(2_000);
    expect((await asState(lab)).codes[code]).toBeUndefined();
  });

  it('is shown on the client callback page, escaped', async () => {
    const { callback, params } = await runFlow(lab);
    expect(callback.status).toBe(200);
    expect(callback.text).toContain(params.get('code'));
  });
});

// Memory stays bounded: every store holds only live entries. Once the clock has passed the
// longest lifetime in the lab (an 8-hour login), nothing a flow left behind is still held,
// by any store of any app, sessions included. (How much memory that is, in bytes, is a
// figure for `npm run bench`, not an assertion: these machines are noisy.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { runFlow, submitClientForm } from '../scripts/lib/flow.ts';
import { manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, clientState } from '../scripts/lib/state.ts';
import { has } from './helpers/versions.ts';

const NINE_HOURS = 9 * 60 * 60_000;

describe.each(versionsFrom('v01'))('%s: memory', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  /** Entries held across every store of the lab, and how many of them are still alive. */
  const census = () => {
    let held = 0;
    let live = 0;
    for (const store of clock.stores) {
      held += store.held;
      live += store.size;
    }
    return { held, live };
  };

  it('holds nothing of a finished flow once every lifetime has passed', async () => {
    const before = census();
    for (let i = 0; i < 20; i++) {
      const { browser } = await runFlow(lab, { username: i % 2 ? 'user1' : 'user0' });
      if (has(version, 'v05')) await submitClientForm(lab, browser, '/refresh');
    }
    expect(census().live).toBeGreaterThan(before.live + 20);

    clock.advance(NINE_HOURS);
    // Moving the clock swept every store: what is held is what is alive, and what is alive
    // is what never expires (remembered consent: one entry per user and client).
    const after = census();
    expect(after.held).toBe(after.live);
    expect(after.live).toBeLessThanOrEqual(before.live + 2);
    for (const state of [await asState(lab), await clientState(lab)]) {
      expect(state.sessionPools).toEqual({
        signedIn: { sessions: 0, bytes: 0 },
        anonymous: { sessions: 0, bytes: 0 },
      });
    }
  });
});

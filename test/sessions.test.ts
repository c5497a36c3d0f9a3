// Sessions under attack: a flood of anonymous sessions must not log anyone out, one browser
// must not grow its session without bound, and a login must give the browser a new session
// id, so an id planted beforehand by another site is worthless (SPEC §0).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { authorizeUrl, logInAtAs, runFlow } from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { clientState } from '../scripts/lib/state.ts';
import { listVersions } from '../scripts/versions.mjs';
import { has } from './helpers/versions.ts';

/** `count` requests from browsers without cookies, 50 at a time: each starts a new session. */
async function flood(url: string, count: number) {
  for (let sent = 0; sent < count; sent += 50) {
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const response = await fetch(url, { redirect: 'manual' });
        await response.arrayBuffer();
        expect(response.status).toBeLessThan(500);
      }),
    );
  }
}

// The session store is shared/ code, the same in every app of every version, and a flood big
// enough to matter takes seconds: it runs against the newest version only.
describe.each(listVersions().slice(-1))('%s: a flood of anonymous sessions', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('logs nobody out: anonymous sessions make room only for each other', async () => {
    const user = new Browser();
    await logInAtAs(lab, user);
    const clientUser = has(version, 'v03') ? (await runFlow(lab)).browser : undefined;

    // More cookie-less requests than the lab ever kept sessions for (5,000 before it kept
    // signed-in sessions apart): each leaves an anonymous session behind.
    await flood(authorizeUrl(lab), 5_100);
    await flood(`${lab.urls.client}/login`, 5_100);

    // Still logged in at the AS: the next authorization request needs no password.
    expect((await user.get(authorizeUrl(lab))).location).not.toBe('/login');
    if (clientUser) expect((await clientState(lab, clientUser)).yourTokens).toBeDefined();
  }, 60_000);
});

describe.each(versionsFrom('v01'))('%s: sessions are bounded and renewed', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('a callback flood cannot grow one session past its bound', async () => {
    const browser = new Browser();
    await browser.get(`${lab.urls.client}/login`);
    const junk = 'x'.repeat(15_000);
    for (let i = 0; i < 30; i++) {
      const page = await browser.get(`${lab.urls.client}/callback?x=${junk}&i=${i}`);
      expect(page.status).toBeLessThan(500);
    }
    const { yourSession } = await clientState(lab, browser);
    // 30 × 15 kB arrived; the transcript keeps the last hops, each value cut short.
    expect(JSON.stringify(yourSession).length).toBeLessThan(40_000);
    expect(yourSession.transcript!.at(-1)!.params!.i).toBe('29');
  });

  if (has(version, 'v03')) {
    it('a login gives the client session a new id: a planted cookie gets nothing', async () => {
      // The attacker gets a session id of their own from the client, and a page on another
      // localhost port plants it in the victim's browser (cookies ignore ports).
      const attacker = new Browser();
      await attacker.get(`${lab.urls.client}/login`);
      const planted = attacker.cookies.get('client.sid')!;
      const victim = new Browser();
      victim.cookies.set('client.sid', planted);

      const { callback } = await runFlow(lab, { browser: victim });
      expect(callback.status).toBe(200);
      expect(victim.cookies.get('client.sid')).not.toBe(planted);
      const { access_token: stolen } = (await clientState(lab, victim)).yourTokens!;
      // The attacker's copy of the old id holds nothing of the victim's.
      expect((await clientState(lab, attacker)).yourTokens).toBeUndefined();
      expect((await attacker.get(`${lab.urls.client}/`)).text).not.toContain(stolen);
    });
  }
});

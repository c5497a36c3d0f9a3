// Two requests at once. A value whose second use must fail (state, code, consent id, refresh
// token) is taken in one synchronous step from a server-side store, so of two concurrent uses
// exactly one wins; and a request that read a session before another one changed it must not
// write its old copy back (SPEC §0; LAB-DESIGN "Lessons").

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Browser } from '../scripts/lib/browser.ts';
import {
  authorizeUrl,
  consentIdOf,
  csrfOf,
  loggedInBrowser,
  runFlow,
} from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, clientState, clientTokens } from '../scripts/lib/state.ts';
import { codeForm, freshCode, postRefresh, postToken, tokensFor } from '../scripts/lib/token.ts';

const statuses = (pages: Array<{ status: number }>) => pages.map((page) => page.status).sort();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start `first` and `second` a few milliseconds apart, trying every spacing in turn across the
 * trials: the race is lost only when one request reads the session before the other changes
 * it, and writes it back after.
 */
const SPACINGS = [0, 1, 2, 3, -1, -2];
async function race(trial: number, first: () => Promise<unknown>, second: () => Promise<unknown>) {
  const spacing = SPACINGS[trial % SPACINGS.length]!;
  await Promise.all([
    sleep(Math.max(0, -spacing)).then(first),
    sleep(Math.max(0, spacing)).then(second),
  ]);
}

describe.each(versionsFrom('v02'))('%s: concurrent single uses', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  it('two callbacks with one state: exactly one is accepted', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const { browser, authorizationResponse } = await runFlow(lab, { land: false });
      const pages = await Promise.all([
        browser.follow(authorizationResponse),
        browser.follow(authorizationResponse),
      ]);
      expect(statuses(pages)).toEqual([200, 400]);
      expect(pages.find((page) => page.status === 400)!.text).toContain('Callback refused');
    }
  });

  if (versionsFrom('v03').includes(version)) {
    it('two redemptions of one code: exactly one gets tokens', async () => {
      const code = await freshCode(lab);
      const answers = await Promise.all([
        postToken(lab, codeForm(lab, code)),
        postToken(lab, codeForm(lab, code)),
      ]);
      expect(statuses(answers)).toEqual([200, 400]);
    });
  }

  if (versionsFrom('v04').includes(version)) {
    it('two submissions of one consent form: exactly one issues a code', async () => {
      const browser = await loggedInBrowser(lab, 'user1');
      const form = await browser.follow(await browser.get(authorizeUrl(lab, { scope: 'profile' })));
      const answer = {
        _csrf: csrfOf(form),
        consent_id: consentIdOf(form),
        decision: 'approve',
        scope: 'profile',
      };
      const pages = await Promise.all([
        browser.post(`${lab.urls.as}/consent`, answer),
        browser.post(`${lab.urls.as}/consent`, answer),
      ]);
      const codes = pages.filter((page) => page.location?.includes('code='));
      expect(codes).toHaveLength(1);
      expect(statuses(pages)).toEqual([302, 400]);
    });
  }

  if (versionsFrom('v05').includes(version)) {
    it('two refreshes with one refresh token: one wins, the other is reuse', async () => {
      const tokens = await tokensFor(lab);
      const answers = await Promise.all([
        postRefresh(lab, tokens.refresh_token!),
        postRefresh(lab, tokens.refresh_token!),
      ]);
      expect(statuses(answers)).toEqual([200, 400]);
      expect(answers.find((answer) => answer.status === 400)!.body.error).toBe('invalid_grant');
    });
  }
});

describe.each(versionsFrom('v04'))('%s: a session written back stale', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  beforeAll(async () => {
    lab = await startVersion(version);
  });
  afterAll(() => lab.close());

  /** A client form's token and the browser that may post it. */
  const loggedInAtClient = async () => {
    const { browser } = await runFlow(lab);
    const csrf = csrfOf(await browser.get(`${lab.urls.client}/`));
    return { browser, csrf };
  };

  it('a page load racing “Log out” does not undo the logout', async () => {
    for (let trial = 0; trial < 18; trial++) {
      const { browser, csrf } = await loggedInAtClient();
      const cookie = browser.cookies.get('client.sid')!;
      await race(
        trial,
        () => browser.post(`${lab.urls.client}/logout`, { _csrf: csrf }),
        () => browser.get(`${lab.urls.client}/`),
      );
      // Whatever the load wrote back, the old session id holds no tokens any more.
      const old = new Browser();
      old.cookies.set('client.sid', cookie);
      expect((await clientState(lab, old)).yourTokens).toBeUndefined();
    }
  });

  it('a page load racing AS logout does not undo it', async () => {
    for (let trial = 0; trial < 12; trial++) {
      const browser = await loggedInBrowser(lab);
      const confirm = await browser.get(`${lab.urls.as}/logout`);
      await race(
        trial,
        () => browser.post(`${lab.urls.as}/logout`, { _csrf: csrfOf(confirm) }),
        () => browser.get(authorizeUrl(lab)),
      );
      expect((await asState(lab, browser)).yourSession.user).toBeUndefined();
    }
  });

  if (versionsFrom('v05').includes(version)) {
    it('a page load racing “Refresh now” leaves the client with the newest tokens', async () => {
      for (let trial = 0; trial < 24; trial++) {
        const { browser, csrf } = await loggedInAtClient();
        await race(
          trial,
          () => browser.post(`${lab.urls.client}/refresh`, { _csrf: csrf }),
          () => browser.get(`${lab.urls.client}/`),
        );
        // The refresh token the client holds is the live one, not the one it just used up:
        // using it must not look like theft.
        const held = (await clientTokens(lab, browser)).refresh_token!;
        const atAs = (await asState(lab)).refreshTokens![held];
        expect(atAs?.rotatedAt).toBeUndefined();
        expect(atAs).toBeDefined();
      }
    });
  }
});

// Scopes and consent (RFC 6749 §3.3, §4.1.2.1): the user decides what a client may do, the
// token carries exactly that, and the AS's own forms only accept its own pages.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import type { Page } from '../scripts/lib/browser.ts';
import {
  answerConsent,
  authorizeUrl,
  consentIdOf,
  csrfOf,
  locationParams,
  loggedInBrowser,
  runFlow,
} from '../scripts/lib/flow.ts';
import { startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState } from '../scripts/lib/state.ts';
import { codeForm, postToken } from '../scripts/lib/token.ts';

describe.each(versionsFrom('v04'))('%s: scopes and consent', (version) => {
  // A fresh lab per test: consent is remembered, so one test's grant would skip the next
  // test's consent page.
  let lab: RunningLab<'as' | 'client'>;
  beforeEach(async () => {
    lab = await startVersion(version);
  });
  afterEach(() => lab.close());

  /** A browser logged in as a user who has not consented to anything yet. */
  const freshUser = (username = 'user1') => loggedInBrowser(lab, username);

  /** Redeem the code in an authorization response for its token response. */
  const redeem = async (page: Page) => {
    const code = locationParams(page).get('code')!;
    return (await postToken(lab, codeForm(lab, code))).body;
  };

  it('shows what the client asks for, in plain words, with approve and deny buttons', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile notes:read' }));
    expect(page.location).toBe('/consent');
    const consent = await browser.follow(page);
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('Demo Client');
    expect(consent.text).toContain('See your name and username');
    expect(consent.text).toContain('Read your notes');
    expect(consent.text).not.toContain('Add notes');
    expect(consent.text).toMatch(/<button[^>]+name="decision" value="approve"/);
    expect(consent.text).toMatch(/<button[^>]+name="decision" value="deny"/);
  });

  it('approve → a code whose token carries the granted scope', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile notes:read', state: 'S' }));
    const answer = await answerConsent(browser, page);
    expect(locationParams(answer).get('state')).toBe('S');
    const tokens = await redeem(answer);
    expect(tokens.scope).toBe('profile notes:read');
  });

  it('a partial grant → the token response reports the narrower scope', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile notes:read notes:write' }));
    const answer = await answerConsent(browser, page, { grant: ['profile', 'notes:read'] });
    expect((await redeem(answer)).scope).toBe('profile notes:read');
  });

  it('a scope that was not asked for cannot be slipped into the form', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
    const answer = await answerConsent(browser, page, { grant: ['profile', 'notes:write'] });
    expect((await redeem(answer)).scope).toBe('profile');
  });

  it('deny → access_denied back to the client, with state, and no code', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile', state: 'S' }));
    const answer = await answerConsent(browser, page, { decision: 'deny' });
    expect(answer.status).toBe(302);
    const params = locationParams(answer);
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe('S');
    expect(params.has('code')).toBe(false);
  });

  it('approving with every box unticked is a denial', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
    const answer = await answerConsent(browser, page, { grant: [] });
    expect(locationParams(answer).get('error')).toBe('access_denied');
  });

  it('an unknown scope → invalid_scope back to the client', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: 'profile admin', state: 'S' }));
    expect(page.status).toBe(302);
    const params = locationParams(page);
    expect(params.get('error')).toBe('invalid_scope');
    // It names the parameter, never echoes the request (RFC 6749 §4.1.2.1 charset, SPEC §0).
    expect(params.get('error_description')).toContain('scope');
    expect(params.get('error_description')).not.toContain('admin');
    expect(params.get('state')).toBe('S');
  });

  it('scopes are case-sensitive', async () => {
    const page = await (await freshUser()).get(authorizeUrl(lab, { scope: 'Profile' }));
    expect(locationParams(page).get('error')).toBe('invalid_scope');
  });

  it('no scope → the default, profile', async () => {
    const browser = await freshUser();
    const page = await browser.get(authorizeUrl(lab, { scope: undefined }));
    const answer = await answerConsent(browser, page);
    expect((await redeem(answer)).scope).toBe('profile');
  });

  it('remembers consent per user and client, shows it on the debug page, asks again for more', async () => {
    const browser = await freshUser('user0');
    const first = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
    await answerConsent(browser, first);
    const consents = (await asState(lab)).consents!;
    expect(consents['user0 → demo-client']).toEqual(['profile']);

    const again = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
    expect(again.location).toContain(`${lab.urls.client}/callback?code=`);

    const more = await browser.get(authorizeUrl(lab, { scope: 'profile notes:read' }));
    expect(more.location).toBe('/consent');
  });

  it('the client’s own flow ends with the profile from /api/me', async () => {
    const { callback } = await runFlow(lab, { username: 'user1' });
    expect(callback.status).toBe(200);
    expect(callback.text).toContain('user1');
    expect(callback.text).toContain('Alan Turing');
  });

  describe('the consent form refuses cross-site and stale submissions', () => {
    it('a consent POST without the form’s token changes nothing', async () => {
      const browser = await freshUser();
      const page = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
      await browser.follow(page);
      const forged = await browser.post(`${lab.urls.as}/consent`, {
        decision: 'approve',
        scope: 'profile',
      });
      expect(forged.status).toBe(403);
      expect(forged.location).toBeUndefined();
      // The real form still works afterwards.
      const state = await asState(lab, browser);
      expect(state.yourPendingConsent).toBeDefined();
    });

    it('a consent page shown for one request cannot approve a later one', async () => {
      const browser = await freshUser();
      const first = await browser.follow(
        await browser.get(authorizeUrl(lab, { scope: 'profile', state: 'first' })),
      );
      // A second request in the same session replaces the pending one...
      await browser.get(authorizeUrl(lab, { scope: 'profile notes:write', state: 'second' }));
      // ...so the first page's form is out of date.
      const answer = await browser.post(`${lab.urls.as}/consent`, {
        _csrf: csrfOf(first),
        consent_id: consentIdOf(first),
        decision: 'approve',
        scope: 'profile',
      });
      expect(answer.status).toBe(400);
      expect(answer.location).toBeUndefined();
      expect(answer.text).toContain('earlier authorization request');
    });

    it('a consent POST with no pending request is refused', async () => {
      const browser = await freshUser();
      const page = await browser.post(`${lab.urls.as}/consent`, { decision: 'approve' });
      expect(page.status).toBe(400);
    });

    it('a decision other than approve or deny is refused', async () => {
      const browser = await freshUser();
      const page = await browser.get(authorizeUrl(lab, { scope: 'profile' }));
      const form = await browser.follow(page);
      const answer = await browser.post(`${lab.urls.as}/consent`, {
        _csrf: csrfOf(form),
        consent_id: consentIdOf(form),
        decision: 'maybe',
      });
      expect(answer.status).toBe(400);
    });
  });
});

// Refresh tokens (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
// short-lived access tokens are renewed without the user, and a stolen refresh token gives
// itself away the moment both the thief and the client use it.

import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { Store, StoreFullError } from '../shared/store.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import type { Browser } from '../scripts/lib/browser.ts';
import { runFlow, submitClientForm } from '../scripts/lib/flow.ts';
import { EXPIRED_MS, manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, clientState, clientTokens } from '../scripts/lib/state.ts';
import {
  basic,
  BATCH,
  codeForm,
  freshCode,
  OTHER,
  postRefresh,
  postToken,
  tokensFor,
} from '../scripts/lib/token.ts';
import { versionsDir } from '../scripts/versions.mjs';
import { versionsBetween } from './helpers/versions.ts';

const ALL = 'profile notes:read notes:write';

describe.each(versionsBetween('v04', 'v05'))('%s: no refresh tokens (the contrast)', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  it('a stolen access token stays usable until it expires: nothing can take it back', async () => {
    const tokens = await tokensFor(lab, { scope: ALL });
    expect(tokens.refresh_token).toBeUndefined();
    clock.advance(9 * 60_000);
    expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(200);
    const revoke = await request(lab.urls.as).post('/revoke').type('form').send('token=x');
    expect(revoke.status).toBe(404);
  });
});

describe.each(versionsFrom('v05'))('%s: refresh tokens', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
    // From v06 the API checks JWTs by itself and would accept a revoked token until it
    // expires (jwt-access-tokens.test.ts shows it); here revocation must reach the API.
    await setValidation(lab, 'introspection');
  });
  afterAll(() => lab.close());

  it('the code exchange returns a refresh token and a short-lived access token', async () => {
    const tokens = await tokensFor(lab, { scope: ALL });
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(tokens.expires_in).toBe(60);
  });

  it('the access token dies after 60 s; the refresh token gets a new one', async () => {
    const tokens = await tokensFor(lab, { scope: ALL });
    clock.advance(EXPIRED_MS);
    expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(401);
    const response = await postRefresh(lab, tokens.refresh_token!);
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body.token_type).toBe('Bearer');
    expect(response.body.scope).toBe(ALL);
    expect((await apiGet(lab, '/api/me', response.body.access_token)).status).toBe(200);
  });

  it('rotates: each use returns a new refresh token', async () => {
    const tokens = await tokensFor(lab, { scope: ALL });
    const first = await postRefresh(lab, tokens.refresh_token!);
    const second = await postRefresh(lab, first.body.refresh_token);
    expect(second.status).toBe(200);
    const seen = new Set([
      tokens.refresh_token,
      first.body.refresh_token,
      second.body.refresh_token,
    ]);
    expect(seen.size).toBe(3);
  });

  describe('reuse of a rotated refresh token (RFC 9700 §4.14.2)', () => {
    it('is refused, and revokes the whole family: refresh and access tokens', async () => {
      const stolen = await tokensFor(lab, { scope: ALL });
      // The legitimate client refreshes: the stolen copy is now a used token.
      const legit = (await postRefresh(lab, stolen.refresh_token!)).body;
      expect((await apiGet(lab, '/api/me', legit.access_token)).status).toBe(200);

      // The thief replays the old refresh token.
      const replay = await postRefresh(lab, stolen.refresh_token!);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');
      expect(replay.body.error_description).toMatch(/already used/);

      // Everything of that grant is dead: the client's current tokens too.
      expect((await apiGet(lab, '/api/me', legit.access_token)).status).toBe(401);
      expect((await postRefresh(lab, legit.refresh_token)).body.error).toBe('invalid_grant');
      const state = await asState(lab);
      expect(state.refreshTokens![legit.refresh_token]).toBeUndefined();
    });

    it('when the thief is first, the client’s own refresh reveals it, with the same result', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      const thief = (await postRefresh(lab, tokens.refresh_token!)).body;
      expect((await postRefresh(lab, tokens.refresh_token!)).body.error).toBe('invalid_grant');
      expect((await apiGet(lab, '/api/me', thief.access_token)).status).toBe(401);
      expect((await postRefresh(lab, thief.refresh_token)).body.error).toBe('invalid_grant');
    });

    it('leaves other grants of the same user alone', async () => {
      const victim = await tokensFor(lab, { scope: ALL });
      const other = await tokensFor(lab, { scope: ALL });
      await postRefresh(lab, victim.refresh_token!);
      await postRefresh(lab, victim.refresh_token!);
      expect((await apiGet(lab, '/api/me', other.access_token)).status).toBe(200);
      expect((await postRefresh(lab, other.refresh_token!)).status).toBe(200);
    });
  });

  describe('a long chain of refreshes (memory bounded per family, SPEC §0)', () => {
    it('ends the login instead of forgetting the rotated tokens: the thief is cut off', async () => {
      const victim = await tokensFor(lab, { scope: ALL });
      const bystander = await tokensFor(lab, { scope: ALL, username: 'user1' });
      // The thief refreshes the stolen token, then keeps chaining refreshes, hoping the
      // victim's rotated token is pushed out of memory before the victim comes back.
      let held = victim.refresh_token!;
      let access = victim.access_token;
      let refused: { status: number; body: Record<string, unknown> } | undefined;
      for (let i = 0; i < 1_100 && !refused; i++) {
        const answer = await postRefresh(lab, held);
        if (answer.status !== 200) refused = answer;
        else ({ refresh_token: held, access_token: access } = answer.body);
      }
      expect(refused?.body.error).toBe('invalid_grant');
      expect(refused?.body.error_description).toMatch(/refreshed 1000 times/);
      // Fail closed: the whole family is gone, the thief's newest tokens included.
      expect((await apiGet(lab, '/api/me', access)).status).toBe(401);
      expect((await postRefresh(lab, held)).body.error).toBe('invalid_grant');
      expect((await postRefresh(lab, victim.refresh_token!)).body.error).toBe('invalid_grant');
      // Nobody else pays for it.
      expect((await postRefresh(lab, bystander.refresh_token!)).status).toBe(200);
    }, 60_000);
  });

  it('a full token store answers 503 and does not use the presented refresh token up', async () => {
    // The grant handler itself, with a refresh token store that has room for one entry.
    const grant = (await import(
      path.join(versionsDir, version, 'auth-server', 'grants', 'refresh-token.ts')
    )) as { refreshToken(body: object, client: object, deps: object): unknown };
    const refreshTokens = new Store<Record<string, unknown>>({ ttlMs: 60_000, maxEntries: 1 });
    const accessTokens = new Store<Record<string, unknown>>({ ttlMs: 60_000 });
    // (resources, issuer and now are for v06 on, where tokens name their audience and issuer)
    const stored = { clientId: 'demo-client', username: 'user0', scope: 'profile' };
    const resources = ['http://rs.invalid'];
    refreshTokens.set('rt', { ...stored, resources, issuedAt: '', code: 'c', generation: 0 });
    const client = { clientId: 'demo-client' };
    const deps = { refreshTokens, accessTokens, issuer: 'http://as.invalid', now: Date.now };
    expect(() => grant.refreshToken({ refresh_token: 'rt' }, client, deps)).toThrow(StoreFullError);
    expect(refreshTokens.get('rt')!.rotatedAt).toBeUndefined();
    refreshTokens.close();
    accessTokens.close();
  });

  describe('scope on refresh (RFC 6749 §6)', () => {
    it('a subset narrows the new access token; the new refresh token keeps the original', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      const narrow = await postRefresh(lab, tokens.refresh_token!, { scope: 'profile' });
      expect(narrow.status).toBe(200);
      expect(narrow.body.scope).toBe('profile');
      const notes = await apiGet(lab, '/api/notes', narrow.body.access_token);
      expect(notes.status).toBe(403);

      const full = await postRefresh(lab, narrow.body.refresh_token);
      expect(full.body.scope).toBe(ALL);
    });

    it('a wider scope → invalid_scope, and nothing is used up', async () => {
      const tokens = await tokensFor(lab, { scope: 'profile' });
      const wider = await postRefresh(lab, tokens.refresh_token!, { scope: 'profile notes:write' });
      expect(wider.status).toBe(400);
      expect(wider.body.error).toBe('invalid_scope');
      expect((await postRefresh(lab, tokens.refresh_token!)).status).toBe(200);
    });

    it('a blank scope counts as none: the original scope', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      expect((await postRefresh(lab, tokens.refresh_token!, { scope: ' ' })).body.scope).toBe(ALL);
    });

    it('an unknown scope → invalid_scope', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      expect((await postRefresh(lab, tokens.refresh_token!, { scope: 'admin' })).body.error).toBe(
        'invalid_scope',
      );
    });
  });

  it('refreshing never makes a login last longer than 8 hours', async () => {
    const tokens = await tokensFor(lab, { scope: ALL });
    clock.advance(7 * 60 * 60_000);
    const late = await postRefresh(lab, tokens.refresh_token!);
    expect(late.status).toBe(200);
    clock.advance(60 * 60_000 + 1_000);
    const expired = await postRefresh(lab, late.body.refresh_token);
    expect(expired.body.error).toBe('invalid_grant');
    expect(expired.body.error_description).toMatch(/expired/);
  });

  describe('bad refresh requests', () => {
    it('missing refresh_token → invalid_request', async () => {
      const response = await postToken(lab, { grant_type: 'refresh_token' });
      expect(response.body.error).toBe('invalid_request');
    });

    it('an unknown refresh token → invalid_grant', async () => {
      expect((await postRefresh(lab, 'garbage')).body.error).toBe('invalid_grant');
    });

    it('another client’s refresh token → invalid_grant, and the owner can still use it', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      const response = await postToken(
        lab,
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
        basic(OTHER.id, OTHER.secret),
      );
      expect(response.body.error).toBe('invalid_grant');
      expect((await postRefresh(lab, tokens.refresh_token!)).status).toBe(200);
    });

    it('a client not registered for refresh_token → 400 unauthorized_client', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      const response = await postToken(
        lab,
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
        basic(BATCH.id, BATCH.secret),
      );
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('unauthorized_client');
    });

    it('no client authentication → 401 invalid_client', async () => {
      const tokens = await tokensFor(lab, { scope: ALL });
      const response = await postToken(
        lab,
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
        null,
      );
      expect(response.status).toBe(401);
    });

    it('a replayed code also revokes the refresh token it issued', async () => {
      const code = await freshCode(lab, { scope: ALL });
      const tokens = (await postToken(lab, codeForm(lab, code))).body;
      await postToken(lab, codeForm(lab, code));
      expect((await postRefresh(lab, tokens.refresh_token)).body.error).toBe('invalid_grant');
    });
  });
});

describe.each(versionsFrom('v05'))('%s: the client keeps you logged in', (version) => {
  let lab: RunningLab<'as' | 'client'>;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion(version, { now: clock.now });
    // From v06 the API checks JWTs by itself and would accept a revoked token until it
    // expires (jwt-access-tokens.test.ts shows it); here revocation must reach the API.
    await setValidation(lab, 'introspection');
  });
  afterAll(() => lab.close());

  const hopTitles = async (browser: Browser) =>
    ((await clientState(lab, browser)).yourSession.transcript ?? []).map(
      (hop) => `${hop.title} | ${hop.line}`,
    );

  it('refreshes silently when the API answers 401 invalid_token, and shows it in the transcript', async () => {
    const { browser } = await runFlow(lab);
    const before = await clientTokens(lab, browser);
    clock.advance(EXPIRED_MS);
    const home = await browser.get(`${lab.urls.client}/`);
    expect(home.status).toBe(200);
    expect(home.text).toContain('analytical engine');
    const after = await clientTokens(lab, browser);
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token);
    const titles = await hopTitles(browser);
    expect(titles.some((t) => t.startsWith('API error response | 401'))).toBe(true);
    expect(titles.some((t) => t.includes('uses its refresh token'))).toBe(true);
  });

  it('two tabs that find the token expired at once share one refresh, and stay logged in', async () => {
    const { browser } = await runFlow(lab);
    clock.advance(EXPIRED_MS);
    const [a, b] = await Promise.all([
      browser.get(`${lab.urls.client}/`),
      browser.get(`${lab.urls.client}/`),
    ]);
    for (const page of [a, b]) {
      expect(page.text).toContain('analytical engine');
      expect(page.text).not.toContain('Please log in again');
    }
    const again = await browser.get(`${lab.urls.client}/`);
    expect(again.text).not.toContain('Please log in again');
  });

  it('“Refresh now” rotates the tokens', async () => {
    const { browser } = await runFlow(lab);
    const before = await clientTokens(lab, browser);
    expect((await submitClientForm(lab, browser, '/refresh')).status).toBe(303);
    const after = await clientTokens(lab, browser);
    expect(after.refresh_token).not.toBe(before.refresh_token);
  });

  it('a stolen, replayed refresh token: the client is asked to log in again', async () => {
    const { browser } = await runFlow(lab);
    const stolen = (await clientTokens(lab, browser)).refresh_token!;
    // The thief uses the copy first: rotation hands them a fresh pair...
    expect((await postRefresh(lab, stolen)).status).toBe(200);
    // ...until the client's own refresh presents the same, now used, token.
    clock.advance(EXPIRED_MS);
    const home = await browser.get(`${lab.urls.client}/`);
    expect(home.text).toContain('Please log in again');
    expect(home.text).toContain('invalid_grant');
    expect((await clientState(lab, browser)).yourTokens).toBeUndefined();
  });

  it('“Revoke” kills the grant at the AS; the next page asks to log in again', async () => {
    const { browser } = await runFlow(lab);
    const tokens = await clientTokens(lab, browser);
    await submitClientForm(lab, browser, '/revoke');
    expect((await apiGet(lab, '/api/me', tokens.access_token)).status).toBe(401);
    const home = await browser.get(`${lab.urls.client}/`);
    expect(home.text).toContain('Please log in again');
  });

  it('logout revokes the refresh token', async () => {
    const { browser } = await runFlow(lab);
    const tokens = await clientTokens(lab, browser);
    await submitClientForm(lab, browser, '/logout');
    expect((await postRefresh(lab, tokens.refresh_token!)).body.error).toBe('invalid_grant');
  });
});

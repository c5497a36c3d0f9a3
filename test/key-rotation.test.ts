// Signing keys and their rotation (v06+): every access token names, in its `kid` header, the
// AS's current key, which the AS publishes at its jwks_uri (RFC 7517 §5) together with the next
// key, before that one signs anything. Rotating makes the next key current and keeps the old
// one published, so tokens it signed still verify; retiring stops publishing it, and the AS no
// longer stands by them. Both are forms on the AS's home page, protected like every form by a
// CSRF token.

import { decodeProtectedHeader, type JWK } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { csrfOf } from '../scripts/lib/flow.ts';
import { manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, rsState } from '../scripts/lib/state.ts';
import { introspect, postRefresh, tokensFor } from '../scripts/lib/token.ts';

type Lab = RunningLab<'as' | 'client' | 'rs'>;

// The RS fetches the key set again for an unknown kid, but at most once per this long
// (resource-server/jwt.ts: JWKS_COOLDOWN_MS), so junk tokens cannot make it hammer the AS.
const JWKS_COOLDOWN_MS = 10_000;

describe.each(versionsFrom('v06'))('%s: signing keys and their rotation', (version) => {
  let lab: Lab;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  const kidOf = (token: string) => decodeProtectedHeader(token).kid;

  async function signingKeys() {
    return (await asState(lab)).signingKeys ?? [];
  }

  async function kidWith(status: 'next' | 'current') {
    const found = (await signingKeys()).filter((key) => key.status === status);
    expect(found).toHaveLength(1);
    return found[0]!.kid;
  }
  const currentKid = () => kidWith('current');

  /** The kids of the key set at the jwks_uri the AS's metadata names. */
  async function publishedKids() {
    const metadata = (await request(lab.urls.as).get('/.well-known/oauth-authorization-server'))
      .body as { jwks_uri: string };
    const jwks = (await fetch(metadata.jwks_uri).then((r) => r.json())) as { keys: JWK[] };
    return jwks.keys.map((key) => key.kid).sort();
  }

  /** Submit a key form (rotate, retire) the way a browser does, with the home page's token. */
  async function keyForm(action: 'rotate' | 'retire', csrf: 'with' | 'without' = 'with') {
    const browser = new Browser();
    const home = await browser.get(`${lab.urls.as}/`);
    const token = csrfOf(home);
    expect(token).not.toBe('');
    return browser.post(`${lab.urls.as}/keys/${action}`, csrf === 'with' ? { _csrf: token } : {});
  }

  it('every access token names the AS’s current key, which the JWKS lists', async () => {
    const kid = await currentKid();
    const tokens = await tokensFor(lab);
    expect(kidOf(tokens.access_token)).toBe(kid);
    const refreshed = await postRefresh(lab, tokens.refresh_token!);
    expect(kidOf(refreshed.body.access_token)).toBe(kid);
    expect(await publishedKids()).toContain(kid);
  });

  it('the JWKS lists exactly the keys the AS holds: the current one and the next', async () => {
    const held = (await signingKeys()).map((key) => key.kid).sort();
    expect(held).toEqual([await currentKid(), await kidWith('next')].sort());
    expect(await publishedKids()).toEqual(held);
  });

  it('a rotation form without the CSRF token → 403, and no new key', async () => {
    const before = await signingKeys();
    const page = await keyForm('rotate', 'without');
    expect(page.status).toBe(403);
    expect(await signingKeys()).toEqual(before);
    const retire = await keyForm('retire', 'without');
    expect(retire.status).toBe(403);
    expect(await signingKeys()).toEqual(before);
  });

  it('a rotation form with another session’s CSRF token → 403, and no new key', async () => {
    const before = await signingKeys();
    const stranger = csrfOf(await new Browser().get(`${lab.urls.as}/`));
    const browser = new Browser();
    await browser.get(`${lab.urls.as}/`);
    const page = await browser.post(`${lab.urls.as}/keys/rotate`, { _csrf: stranger });
    expect(page.status).toBe(403);
    expect(await signingKeys()).toEqual(before);
  });

  describe('rotate, then retire', () => {
    let oldKid: string;
    let newKid: string;
    let nextKid: string;
    let oldToken: string;
    let newToken: string;

    it('rotating makes the next key current; tokens issued afterwards carry it', async () => {
      oldKid = await currentKid();
      newKid = await kidWith('next');
      oldToken = (await tokensFor(lab)).access_token;
      expect(kidOf(oldToken)).toBe(oldKid);
      // The RS (JWT mode) holds the key set that signed it, the next key included.
      expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(200);
      expect((await rsState(lab)).keySet.kids.sort()).toEqual([oldKid, newKid].sort());

      const page = await keyForm('rotate');
      expect(page.status).toBe(303);
      expect(await currentKid()).toBe(newKid);
      nextKid = await kidWith('next');
      expect([oldKid, newKid]).not.toContain(nextKid);
      expect(await signingKeys()).toEqual([
        expect.objectContaining({ kid: nextKid, status: 'next' }),
        expect.objectContaining({ kid: newKid, status: 'current' }),
        expect.objectContaining({ kid: oldKid, status: 'previous' }),
      ]);

      newToken = (await tokensFor(lab)).access_token;
      expect(kidOf(newToken)).toBe(newKid);
    });

    it('the JWKS lists all three keys', async () => {
      expect(await publishedKids()).toEqual([oldKid, newKid, nextKid].sort());
    });

    it('the RS (JWT mode) accepts both tokens with the key set it already holds', async () => {
      const { fetchedAt } = (await rsState(lab)).keySet;
      expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(200);
      expect((await apiGet(lab, '/api/me', newToken)).status).toBe(200);
      expect((await rsState(lab)).keySet.fetchedAt).toBe(fetchedAt);
    });

    it('introspection reports both tokens active while both keys are published', async () => {
      expect((await introspect(lab, oldToken)).active).toBe(true);
      expect((await introspect(lab, newToken)).active).toBe(true);
    });

    it('retiring removes the previous key from the JWKS', async () => {
      const page = await keyForm('retire');
      expect(page.status).toBe(303);
      expect(await signingKeys()).toEqual([
        expect.objectContaining({ kid: nextKid, status: 'next' }),
        expect.objectContaining({ kid: newKid, status: 'current' }),
      ]);
      expect(await publishedKids()).toEqual([newKid, nextKid].sort());
    });

    it('introspection reports the old-key token inactive at once; the current key’s stay active', async () => {
      expect(await introspect(lab, oldToken)).toStrictEqual({ active: false });
      expect((await introspect(lab, newToken)).active).toBe(true);
      const fresh = (await tokensFor(lab)).access_token;
      expect(kidOf(fresh)).toBe(newKid);
      expect((await introspect(lab, fresh)).active).toBe(true);
    });

    it('the RS in introspection mode refuses the old-key token at once, accepts the new', async () => {
      await setValidation(lab, 'introspection');
      try {
        expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(401);
        expect((await apiGet(lab, '/api/me', newToken)).status).toBe(200);
      } finally {
        await setValidation(lab, 'jwt');
      }
    });
  });
});

describe.each(versionsFrom('v06'))('%s: right after a rotation', (version) => {
  let lab: Lab;
  const clock = manualClock();
  beforeAll(async () => {
    lab = await startVersion<'as' | 'client' | 'rs'>(version, { now: clock.now });
  });
  afterAll(() => lab.close());

  // The AS publishes a key before it signs with it. Were it to sign with a key it had only just
  // made, a resource server that fetched the key set less than JWKS_COOLDOWN_MS before would not
  // fetch it again for the unknown kid, and would refuse every new token (and the token the
  // client's refresh-and-retry gets) for up to 10 s; jose's createRemoteJWKSet has the same
  // cooldown, so this is the AS's job.
  it('a token of the new key is accepted at once, even just after the RS fetched the keys', async () => {
    const oldToken = (await tokensFor(lab)).access_token;
    expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(200); // the RS fetches the set
    const browser = new Browser();
    const home = await browser.get(`${lab.urls.as}/`);
    expect((await browser.post(`${lab.urls.as}/keys/rotate`, { _csrf: csrfOf(home) })).status).toBe(
      303,
    );
    clock.advance(JWKS_COOLDOWN_MS / 10); // well inside the cooldown
    const newToken = (await tokensFor(lab)).access_token;
    const response = await apiGet(lab, '/api/me', newToken);
    expect(response.body.error_description ?? '').not.toMatch(/kid/);
    expect(response.status).toBe(200);
  });
});

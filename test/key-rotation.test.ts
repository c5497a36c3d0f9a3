// Signing keys and their rotation (v06+): every access token names, in its `kid` header, the
// AS's current key, which the AS publishes at its jwks_uri (RFC 7517 §5). Rotating makes a new
// current key and keeps the old one published, so tokens it signed still verify; retiring
// stops publishing it, and the AS no longer stands by them. Both are forms on the AS's home
// page, protected like every form by a CSRF token.

import { decodeProtectedHeader, type JWK } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, setValidation } from '../scripts/lib/api.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { csrfOf } from '../scripts/lib/flow.ts';
import { manualClock, startVersion, versionsFrom } from '../scripts/lib/lab.ts';
import { asState, rsState } from '../scripts/lib/state.ts';
import { basic, postRefresh, tokensFor } from '../scripts/lib/token.ts';

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

  async function currentKid() {
    const current = (await signingKeys()).filter((key) => key.status === 'current');
    expect(current).toHaveLength(1);
    return current[0]!.kid;
  }

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

  async function introspect(token: string) {
    const response = await request(lab.urls.as)
      .post('/introspect')
      .type('form')
      .set('Authorization', basic('resource-server', 'resource-secret'))
      .send(new URLSearchParams({ token }).toString());
    expect(response.status).toBe(200);
    return response.body as { active: boolean };
  }

  it('every access token names the AS’s current key, which the JWKS lists', async () => {
    const kid = await currentKid();
    const tokens = await tokensFor(lab);
    expect(kidOf(tokens.access_token)).toBe(kid);
    const refreshed = await postRefresh(lab, tokens.refresh_token!);
    expect(kidOf(refreshed.body.access_token)).toBe(kid);
    expect(await publishedKids()).toContain(kid);
  });

  it('the JWKS lists exactly the keys the AS holds', async () => {
    const held = (await signingKeys()).map((key) => key.kid).sort();
    expect(held.length).toBeGreaterThan(0);
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
    let oldToken: string;
    let newToken: string;

    it('rotating makes a new current key; tokens issued afterwards carry it', async () => {
      oldKid = await currentKid();
      oldToken = (await tokensFor(lab)).access_token;
      expect(kidOf(oldToken)).toBe(oldKid);
      // The RS (JWT mode) holds the key set that signed it.
      expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(200);
      expect((await rsState(lab)).keySet.kids).toEqual([oldKid]);

      const page = await keyForm('rotate');
      expect(page.status).toBe(303);
      newKid = await currentKid();
      expect(newKid).not.toBe(oldKid);
      expect(await signingKeys()).toEqual([
        expect.objectContaining({ kid: newKid, status: 'current' }),
        expect.objectContaining({ kid: oldKid, status: 'previous' }),
      ]);

      newToken = (await tokensFor(lab)).access_token;
      expect(kidOf(newToken)).toBe(newKid);
    });

    it('the JWKS lists both keys', async () => {
      expect(await publishedKids()).toEqual([oldKid, newKid].sort());
    });

    it('the RS (JWT mode) accepts the old-key token and, fetching the set again, the new-key one', async () => {
      // Past the RS's cooldown since it fetched the old set (see the it.fails below).
      clock.advance(JWKS_COOLDOWN_MS);
      expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(200);
      expect((await apiGet(lab, '/api/me', newToken)).status).toBe(200);
      expect((await rsState(lab)).keySet.kids.sort()).toEqual([oldKid, newKid].sort());
    });

    it('introspection reports both tokens active while both keys are published', async () => {
      expect((await introspect(oldToken)).active).toBe(true);
      expect((await introspect(newToken)).active).toBe(true);
    });

    it('retiring removes the previous key from the JWKS', async () => {
      const page = await keyForm('retire');
      expect(page.status).toBe(303);
      expect(await signingKeys()).toEqual([
        expect.objectContaining({ kid: newKid, status: 'current' }),
      ]);
      expect(await publishedKids()).toEqual([newKid]);
    });

    it('introspection reports the old-key token inactive at once; the current key’s stay active', async () => {
      expect(await introspect(oldToken)).toStrictEqual({ active: false });
      expect((await introspect(newToken)).active).toBe(true);
      const fresh = (await tokensFor(lab)).access_token;
      expect(kidOf(fresh)).toBe(newKid);
      expect((await introspect(fresh)).active).toBe(true);
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

  // BUG (v06, arguably a design gap): the AS signs with a new key the moment it is made, and
  // publishes it only from then on. A resource server that fetched the key set less than
  // JWKS_COOLDOWN_MS before the rotation does not fetch it again for the unknown kid, so every
  // token of the new key is refused (401 "No key ... has this kid") for up to 10 s, and the
  // client's refresh-and-retry gets another token of the same new key, refused too. A real AS
  // publishes the next key some time before it signs with it; jose's createRemoteJWKSet has
  // the same cooldown, so the fix belongs on the AS side. Shows the refusal; passes once closed.
  it.fails(
    'a token of the new key is accepted at once, even just after the RS fetched the keys',
    async () => {
      const oldToken = (await tokensFor(lab)).access_token;
      expect((await apiGet(lab, '/api/me', oldToken)).status).toBe(200); // the RS fetches the set
      const browser = new Browser();
      const home = await browser.get(`${lab.urls.as}/`);
      expect(
        (await browser.post(`${lab.urls.as}/keys/rotate`, { _csrf: csrfOf(home) })).status,
      ).toBe(303);
      clock.advance(1_000);
      const newToken = (await tokensFor(lab)).access_token;
      const response = await apiGet(lab, '/api/me', newToken);
      expect(response.body.error_description ?? '').not.toMatch(/kid/);
      expect(response.status).toBe(200);
    },
  );
});

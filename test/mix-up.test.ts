// Mix-up (RFC 9700 §4.4): a client that lets each user pick an authorization server, one of
// them the attacker's, is made to send a code the honest AS issued to the attacker's token
// endpoint. RFC 9207 (v07): the honest AS names itself in `iss` on every authorization
// response, so the client sees that the answer is not from the AS its login went to, and
// refuses it. The client and the hostile AS are fixtures (scripts/lib/mixup-client.ts,
// hostile-as.ts); the honest AS is the version's own.

import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Browser } from '../scripts/lib/browser.ts';
import { locationParams, throughAs } from '../scripts/lib/flow.ts';
import { versionsFrom } from '../scripts/lib/lab.ts';
import {
  attackersOwnLogin,
  HONEST,
  HOSTILE,
  startMixUp,
  type MixUp,
} from '../scripts/lib/mixup-client.ts';
import { asState, storedAccessToken } from '../scripts/lib/state.ts';
import { versionsBetween } from './helpers/versions.ts';

/**
 * The victim logs in with the hostile AS at the client; the hostile AS sends the browser on to
 * the honest AS, where the victim logs in as user0; the honest AS's answer lands at the client.
 */
async function victimLogsInWithHostileAs({ client }: MixUp) {
  const victim = new Browser();
  const start = await victim.get(client.loginUrl(HOSTILE));
  const onward = await victim.follow(start);
  const response = await throughAs(victim, onward, client.redirectUri);
  const callback = await victim.follow(response);
  return { params: locationParams(response), callback };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

describe.each(versionsBetween('v06', 'v07'))('%s: mix-up (the attack works)', (version) => {
  let stage: MixUp;
  beforeEach(async () => {
    stage = await startMixUp(version);
  });
  afterEach(() => stage.close());

  it('the hostile AS’s token endpoint receives the victim’s code, and the verifier that fits it', async () => {
    const { params } = await victimLogsInWithHostileAs(stage);
    expect(params.get('iss')).toBeNull();

    expect(stage.hostile.tokenRequests).toHaveLength(1);
    const { form } = stage.hostile.tokenRequests[0]!;
    expect(form.code).toBe(params.get('code'));
    // A code the honest AS issued for user0, not yet redeemed, bound to that very verifier.
    const issued = (await asState(stage.honest)).codes[form.code!]!;
    expect(issued).toMatchObject({ clientId: 'demo-client', username: 'user0' });
    expect(issued.usedAt).toBeUndefined();
    expect(issued.codeChallenge).toBe(sha256(form.code_verifier!));
  });

  it('with its own login’s challenge planted, the attacker injects the code and holds user0’s tokens', async () => {
    const { attacker, state } = await attackersOwnLogin(stage);
    await victimLogsInWithHostileAs(stage);
    const stolen = stage.hostile.tokenRequests[0]!.form.code!;

    const injected = new URL(stage.client.redirectUri);
    injected.searchParams.set('code', stolen);
    injected.searchParams.set('state', state);
    const page = await attacker.get(injected.href);

    expect(page.status).toBe(200);
    const redeemed = stage.client.tokenRequests.at(-1)!;
    expect(redeemed).toMatchObject({ as: HONEST, status: 200 });
    const token = await storedAccessToken(stage.honest, String(redeemed.body.access_token));
    expect(token?.username).toBe('user0');
  });
});

describe.each(versionsFrom('v07'))('%s: mix-up refused (RFC 9207 iss)', (version) => {
  let stage: MixUp;
  beforeEach(async () => {
    stage = await startMixUp(version);
  });
  afterEach(() => stage.close());

  it('the client refuses the callback: it names the honest AS, the login went to the hostile one', async () => {
    const { params, callback } = await victimLogsInWithHostileAs(stage);
    expect(params.get('iss')).toBe(stage.honest.urls.as);
    expect(callback.status).toBe(400);
    expect(callback.text).toContain('issuer_mismatch');

    // The code went nowhere: not to the hostile AS, not redeemed at the honest one.
    expect(stage.hostile.tokenRequests).toEqual([]);
    expect(stage.client.tokenRequests).toEqual([]);
    const issued = (await asState(stage.honest)).codes[params.get('code')!]!;
    expect(issued.usedAt).toBeUndefined();
  });

  it('a planted challenge gains the attacker nothing: there is no code to inject', async () => {
    await attackersOwnLogin(stage);
    const { callback } = await victimLogsInWithHostileAs(stage);
    expect(callback.text).toContain('issuer_mismatch');
    expect(stage.hostile.tokenRequests).toEqual([]);
  });

  it('a login with the honest AS itself goes through: iss names the AS the login went to', async () => {
    const browser = new Browser();
    const start = await browser.get(stage.client.loginUrl(HONEST));
    const response = await throughAs(browser, start, stage.client.redirectUri);
    const callback = await browser.follow(response);
    expect(callback.status).toBe(200);
    expect(stage.client.tokenRequests).toMatchObject([{ as: HONEST, status: 200 }]);
  });
});

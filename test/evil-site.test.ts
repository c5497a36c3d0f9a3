// The attacker's site (npm run evil): a page for every attack against every version, runs
// that agree with the attack matrix on one long-lived lab, the steps it hands to a browser,
// and what it does with bad input. Chromium drives it in test/e2e/evil.e2e.ts.

import { spawn } from 'node:child_process';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attacks } from '../scripts/attack.ts';
import { startingVersion } from '../scripts/evil.ts';
import { Browser } from '../scripts/lib/browser.ts';
import { throughAs } from '../scripts/lib/flow.ts';
import { HOSTILE } from '../scripts/lib/mixup-client.ts';
import { stages } from '../scripts/lib/evil/stages.ts';
import { startEvil, type EvilSite } from '../scripts/lib/evil/site.ts';
import { versionNumber } from '../scripts/lib/lab.ts';
import { asState } from '../scripts/lib/state.ts';
import { listVersions, repoRoot } from '../scripts/versions.mjs';

let site: EvilSite;
beforeAll(async () => {
  site = await startEvil({ version: 'v01', port: 0, labPorts: 0 });
});
afterAll(() => site?.close());

const names = Object.keys(attacks);

/** What the matrix says of `name` against `version`, from the page's stage. */
function expected(name: string, version: string) {
  const v = versionNumber(version);
  if (v < versionNumber(stages[name]!.firstWith)) return 'n/a';
  return v < versionNumber(attacks[name]!.fixedIn) ? 'works' : 'refused';
}

/** The verdict a run page gives. */
function verdictOf(html: string) {
  if (html.includes('The attack worked against')) return 'works';
  if (html.includes(' stopped it.')) return 'refused';
  if (html.includes('Nothing to attack in')) return 'n/a';
  throw new Error(`no verdict on the page:\n${html.slice(0, 2000)}`);
}

describe('the attacker’s site', () => {
  it('has a stage for every attack, and nothing else', () => {
    expect(Object.keys(stages).sort()).toEqual([...names].sort());
  });

  it('lists every attack with the version that stops it', async () => {
    const page = await request(site.url).get('/');
    expect(page.status).toBe(200);
    for (const name of names) expect(page.text).toContain(`href="/attacks/${name}"`);
  });

  it.each(listVersions())('shows every attack’s page with the lab at %s', async (version) => {
    await site.switchTo(version);
    for (const name of names) {
      const page = await request(site.url).get(`/attacks/${name}`);
      expect(page.status, name).toBe(200);
      const verdict = expected(name, version);
      expect(page.text, name).toContain(
        verdict === 'n/a'
          ? 'has nothing for this attack to hit'
          : verdict === 'works'
            ? 'is before the fix'
            : 'has the fix',
      );
      // Every link into the lab points at the lab it runs now (the mix-up's stage runs beside
      // it, on ports of its own).
      if (name === 'mix-up') continue;
      for (const [, href] of page.text.matchAll(/href="(http:\/\/localhost:\d+)/g)) {
        expect(Object.values(site.lab().urls as Record<string, string>).concat(site.url)).toContain(
          href,
        );
      }
    }
  });

  // The runs agree with the matrix against the version before each fix and the fix, on one lab
  // that stays up, each twice: a run must not depend on a fresh lab.
  const runs = listVersions().map((version) => ({
    version,
    names: names.filter((name) => {
      const fix = versionNumber(attacks[name]!.fixedIn);
      return versionNumber(version) === fix || versionNumber(version) === fix - 1;
    }),
  }));
  it.each(runs.filter((run) => run.names.length > 0))(
    'runs, at $version, agree with the matrix: $names',
    async ({ version, names: here }) => {
      await site.switchTo(version);
      for (const name of here) {
        for (const round of [1, 2]) {
          const page = await request(site.url).post(`/attacks/${name}/run`);
          expect(page.status, name).toBe(200);
          expect(verdictOf(page.text), `${name}, run ${round}`).toBe(expected(name, version));
        }
      }
    },
    60_000,
  );

  it('login-csrf: the bait is the attacker’s callback, with user1’s code', async () => {
    await site.switchTo('v01');
    const page = await request(site.url).get('/attacks/login-csrf');
    const bait = /<a class="button" href="([^"]+)">Claim your prize/.exec(page.text)![1]!;
    const code = new URL(bait.replaceAll('&amp;', '&')).searchParams.get('code')!;
    expect((await asState(site.lab())).codes[code]?.username).toBe('user1');
  });

  it('login-csrf-as: the bait posts the AS login form with the attacker’s password', async () => {
    const page = await request(site.url).get('/attacks/login-csrf-as/bait');
    expect(page.text).toContain(`action="${site.lab().urls.as}/login"`);
    expect(page.text).toContain('name="username" value="user1"');
    expect(page.text).toContain('name="password" value="password1"');
  });

  it('code-injection: plants the attacker’s client cookie and opens the callback with its state', async () => {
    await site.switchTo('v02');
    const inject = await request(site.url).get('/attacks/code-injection/inject?code=leaked');
    expect(inject.status).toBe(303);
    const callback = new URL(inject.headers.location!);
    expect(callback.origin).toBe(site.lab().urls.client);
    expect(callback.searchParams.get('code')).toBe('leaked');
    const cookie = ([] as string[]).concat(inject.headers['set-cookie'] ?? []);
    expect(cookie.join()).toMatch(/^client\.sid=s%3A/);
    // The planted cookie is a login the client started: it accepts that state with it.
    const browser = new Browser();
    browser.cookies.set('client.sid', cookie[0]!.split(';')[0]!.slice('client.sid='.length));
    expect((await browser.get(callback.href)).text).toContain('leaked');
  });

  it('mix-up: nothing to cash in until the victim logged in through the hostile AS; then user0', async () => {
    await site.switchTo('v06');
    const cashIn = () => request(site.url).post('/attacks/mix-up/cash-in');
    expect((await cashIn()).text).toContain('open the attack’s page first');
    const page = await request(site.url).get('/attacks/mix-up');
    expect((await cashIn()).text).toContain('do the victim’s step first');

    const client = /a client that offers two \((http:\/\/localhost:\d+)\)/.exec(page.text)![1]!;
    const victim = new Browser();
    const toHostile = await victim.get(`${client}/login?as=${encodeURIComponent(HOSTILE)}`);
    const response = await throughAs(victim, await victim.follow(toHostile), `${client}/callback`);
    expect((await victim.follow(response)).text).toContain('Login failed');
    const worked = await cashIn();
    expect(worked.text).toContain('The attack worked against v06');
    expect(worked.text).toContain('user0’s tokens');
    // The code was used: a second cash-in waits for the next victim.
    expect((await cashIn()).text).toContain('do the victim’s step first');
    // A victim who has not come back to the client yet: nothing to cash in, in v06.
    await victim.follow(await victim.get(`${client}/login?as=${encodeURIComponent(HOSTILE)}`));
    expect((await cashIn()).text).toContain('finish the victim’s login');
  });

  it('open-redirect: the catcher shows what arrived, as text', async () => {
    const caught = await request(site.url).get('/steal?code=%3Cscript%3Ealert(1)%3C%2Fscript%3E');
    expect(caught.status).toBe(200);
    expect(caught.text).not.toContain('<script>alert(1)');
    expect(caught.text).toContain('&lt;script&gt;alert(1)');
  });
});

describe('the attacker’s site, given bad input', () => {
  it('answers an unknown attack or page with 404, and no stack trace', async () => {
    for (const path of ['/attacks/nope', '/attacks/__proto__', '/attacks/toString', '/nope']) {
      const page = await request(site.url).get(path);
      expect(page.status, path).toBe(404);
      expect(page.text).not.toMatch(/at .*\.ts:\d+/);
    }
    expect((await request(site.url).post('/attacks/constructor/run')).status).toBe(404);
  });

  it('refuses an unknown version and keeps the lab it runs', async () => {
    await site.switchTo('v03');
    for (const version of ['v99', '../etc', '', '<b>']) {
      const page = await request(site.url).post('/lab').type('form').send({ version, back: '/' });
      expect(page.status, version).toBe(400);
      expect(page.text).not.toContain('<b>');
    }
    expect(site.version()).toBe('v03-pkce');
    expect((await request(site.lab().urls.client).get('/')).status).toBe(200);
  });

  it('goes back only to a page of its own after a switch', async () => {
    for (const back of ['//evil.example/', 'http://evil.example/', '/\\evil.example']) {
      const page = await request(site.url).post('/lab').type('form').send({ version: 'v03', back });
      expect(page.status).toBe(303);
      expect(page.headers.location, back).toBe('/');
    }
    const page = await request(site.url)
      .post('/lab')
      .type('form')
      .send({ version: 'v03', back: '/attacks/mix-up' });
    expect(page.headers.location).toBe('/attacks/mix-up');
  });

  it('refuses a switch or a run posted from another page, and keeps the lab it runs', async () => {
    await site.switchTo('v03');
    for (const origin of ['http://localhost:9000', 'http://evil.example', 'null']) {
      const posts = [
        request(site.url).post('/lab').set('Origin', origin).type('form').send({ version: 'v05' }),
        request(site.url).post('/attacks/code-replay/run').set('Origin', origin),
      ];
      for (const answer of await Promise.all(posts)) expect(answer.status, origin).toBe(403);
    }
    expect(site.version()).toBe('v03-pkce');
    const own = await request(site.url)
      .post('/lab')
      .set('Origin', site.url)
      .type('form')
      .send({ version: 'v04', back: '/' });
    expect(own.status).toBe(303);
    expect(site.version()).toBe('v04-protected-resource');
  });

  it('refuses an injection without a code', async () => {
    for (const query of ['', '?code=', '?code=a%20b', `?code=${'a'.repeat(300)}`]) {
      const page = await request(site.url).get(`/attacks/code-injection/inject${query}`);
      expect(page.status, query).toBe(400);
      expect(page.headers['set-cookie']).toBeUndefined();
    }
  });

  it('switches twice at once: one lab runs at the end, and it answers', async () => {
    const switches = await Promise.all(
      ['v04', 'v05'].map((version) =>
        request(site.url).post('/lab').type('form').send({ version, back: '/' }),
      ),
    );
    expect(switches.map((answer) => answer.status)).toEqual([303, 303]);
    expect(['v04-protected-resource', 'v05-refresh-token']).toContain(site.version());
    expect((await request(site.lab().urls.client).get('/')).status).toBe(200);
    expect((await request(site.lab().urls.as).get('/')).status).toBe(200);
  });
});

describe('npm run evil', () => {
  it('starts with the version before the fix, or the fix when nothing before it has a target', () => {
    expect(startingVersion('login-csrf')).toBe('v01-login-and-code');
    expect(startingVersion('open-redirect')).toBe('v01-login-and-code');
    expect(startingVersion('mix-up')).toBe('v06-split-servers');
    expect(startingVersion('agent-forwarding')).toBe('v07-openid-connect');
    expect(startingVersion('jwt-forgery')).toBe('v06-split-servers');
    expect(startingVersion('replay-after-logout')).toBe('v08-token-exchange');
    expect(startingVersion(undefined)).toBe('v01-login-and-code');
  });

  it('starts the version before the fix and the attacker’s site, and stops on SIGTERM', async () => {
    const ports = { EVIL_PORT: '0', CLIENT_PORT: '0', AS_PORT: '0', RS_PORT: '0', AGENT_PORT: '0' };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/attack.ts', 'login-csrf', '--browser'],
      {
        cwd: repoRoot,
        env: { ...process.env, ...ports },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      for (let tries = 0; tries < 300 && !output.includes('attacker'); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(output).toContain('The lab runs v01-login-and-code');
      const url = /The attacker's site: (\S+)/.exec(output)![1]!;
      expect(url).toMatch(/\/attacks\/login-csrf$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('v02-state-csrf, the fix');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});

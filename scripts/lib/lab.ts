// Run a version's lab in this process, for the tests and the attack and bench scripts: start
// it on free ports, pick the versions that have a feature, and move its clock by hand.

import type http from 'node:http';
import path from 'node:path';
import { closeServer, listen, portOf } from '../../shared/listen.ts';
import { urlFor, type AppRole } from '../../shared/config.ts';
import type { RunningLab, StartLabOptions } from '../../shared/lab.ts';
import type { Store, SweepingClock } from '../../shared/store.ts';
import { findVersion, listVersions, versionsDir } from '../versions.mjs';

/** The number of a version folder: 3 for 'v03-pkce'. */
export const versionNumber = (version: string) => Number(version.slice(1, 3));

/** Versions from `first` on (e.g. 'v02'): the ones that have a feature. */
export function versionsFrom(first: string): string[] {
  return listVersions().filter((version) => versionNumber(version) >= versionNumber(first));
}

/**
 * The version just before `fixedIn` (when there is one) and `fixedIn` itself, as folder names:
 * where an attack should work, and the first version that stops it.
 */
export function beforeAndFix(fixedIn: string): string[] {
  const fix = versionNumber(fixedIn);
  return [fix - 1, fix].flatMap((n) => findVersion(`v${n}`) ?? []);
}

/**
 * Start every app of `version` in this process, on free ports unless `options.ports` says
 * otherwise. `R` names the apps the caller uses: every version runs 'as' and 'client'; ask
 * for more (a resource server 'rs', say) only of versions that have them.
 */
export async function startVersion<R extends AppRole = 'as' | 'client'>(
  version: string,
  options: StartLabOptions = {},
): Promise<RunningLab<R>> {
  const lab = (await import(path.join(versionsDir, version, 'lab.ts'))) as {
    startLab(options: StartLabOptions): Promise<RunningLab<R>>;
  };
  return lab.startLab({ ports: 0, ...options });
}

/**
 * One app of `version` alone, in this process, on a free port: `dir` is its folder
 * ('client', 'resource-server'), `factory` the function that builds it, and `config` what it is
 * told besides its own URL. For tests that put a fake party (an AS, an API) beside it.
 */
export async function startApp(
  version: string,
  dir: string,
  factory: string,
  config: Record<string, unknown>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = await listen('client', 0);
  const url = urlFor(portOf(server));
  const module = (await import(path.join(versionsDir, version, dir, 'index.ts'))) as Record<
    string,
    (config: Record<string, unknown>) => { app: http.RequestListener; close(): void }
  >;
  const app = module[factory]!({ baseUrl: url, ...config });
  server.on('request', app.app);
  return {
    url,
    close: () => {
      app.close();
      return closeServer(server);
    },
  };
}

/**
 * A clock a test can move forward, passed to startLab({ now }). Every store built on it joins
 * `stores`, and moving the clock sweeps them: what has expired is then gone from memory too.
 */
export function manualClock(start = Date.now()) {
  let time = start;
  const stores = new Set<Store<unknown>>();
  const now: SweepingClock = Object.assign(() => time, { stores });
  return {
    now,
    stores,
    advance(ms: number) {
      time += ms;
      for (const store of stores) store.sweep();
    },
  };
}

/**
 * How far to move the clock for a 60-second access token to be expired everywhere: its
 * lifetime and the few seconds of leeway a resource server allows clocks (v06+).
 */
export const EXPIRED_MS = 70_000;

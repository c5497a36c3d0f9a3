// Which versions a suite runs against. Suites name the version a feature arrives in; every
// later version folder is picked up automatically when it appears.

import path from 'node:path';
import type { RunningLab, StartLabOptions } from '../../shared/lab.ts';
import { listVersions, versionsDir } from '../../scripts/versions.ts';

const numberOf = (version: string) => Number(version.slice(1, 3));

/** Versions from `first` on (e.g. 'v02'): the ones that have a feature. */
export function versionsFrom(first: string): string[] {
  return listVersions().filter((version) => numberOf(version) >= numberOf(first));
}

/** Versions before `first`: the ones an attack still works against. */
export function versionsBefore(first: string): string[] {
  return listVersions().filter((version) => numberOf(version) < numberOf(first));
}

/** Versions from `first` up to, not including, `before`: e.g. the last one an attack works on. */
export function versionsBetween(first: string, before: string): string[] {
  return versionsFrom(first).filter((version) => numberOf(version) < numberOf(before));
}

/** True when `version` has the feature that arrives in `first`. */
export function has(version: string, first: string): boolean {
  return numberOf(version) >= numberOf(first);
}

export async function startVersion(
  version: string,
  options: StartLabOptions = {},
): Promise<RunningLab> {
  const lab = (await import(path.join(versionsDir, version, 'lab.ts'))) as {
    startLab(options: StartLabOptions): Promise<RunningLab>;
  };
  return lab.startLab({ ports: 0, ...options });
}

/** A clock a test can move forward, passed to startLab({ now }). */
export function manualClock(start = Date.now()) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

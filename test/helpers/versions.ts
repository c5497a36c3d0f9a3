// Which versions a suite runs against, beyond versionsFrom (scripts/lib/lab.ts): suites name
// the version a feature arrives in; every later version folder is picked up automatically.

import { listVersions } from '../../scripts/versions.mjs';
import { versionNumber, versionsFrom } from '../../scripts/lib/lab.ts';

/** Versions before `first`: the ones an attack still works against. */
export function versionsBefore(first: string): string[] {
  return listVersions().filter((version) => versionNumber(version) < versionNumber(first));
}

/** Versions from `first` up to, not including, `before`: e.g. the last one an attack works on. */
export function versionsBetween(first: string, before: string): string[] {
  return versionsFrom(first).filter((version) => versionNumber(version) < versionNumber(before));
}

/** True when `version` has the feature that arrives in `first`. */
export function has(version: string, first: string): boolean {
  return versionNumber(version) >= versionNumber(first);
}

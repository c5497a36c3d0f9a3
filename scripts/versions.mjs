// The version folders, found on disk, so new versions need no registration anywhere.
// Plain JavaScript (types in JSDoc), so that `npm run v01` can start without a TypeScript
// loader: scripts/run.mjs imports it, and so does TypeScript code.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const versionsDir = path.join(repoRoot, 'versions');

/**
 * Every version folder name, in order: ['v01-login-and-code', 'v02-state-csrf', ...].
 * @returns {string[]}
 */
export function listVersions() {
  if (!existsSync(versionsDir)) return [];
  return readdirSync(versionsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^v\d\d-/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Resolve `v3`, `v03`, `03` or the full folder name to a folder name, or undefined.
 * @param {string} name
 * @returns {string | undefined}
 */
export function findVersion(name) {
  const versions = listVersions();
  if (versions.includes(name)) return name;
  const number = /^v?(\d{1,2})$/.exec(name)?.[1];
  if (number === undefined) return undefined;
  const prefix = `v${number.padStart(2, '0')}-`;
  return versions.find((version) => version.startsWith(prefix));
}

/**
 * What to print for a version name that matches no folder.
 * @param {string} name
 * @returns {string}
 */
export function unknownVersionMessage(name) {
  const versions = listVersions();
  return [
    `There is no version called "${name}". The versions are:`,
    ...versions.map((version) => `  ${version.slice(0, 3)}  ${version}`),
    `Run one with: npm run ${versions[0]?.slice(0, 3) ?? 'v01'}`,
  ].join('\n');
}

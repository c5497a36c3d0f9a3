// npm run evil [attack] [version]: the attacker's site, on http://localhost:9666 (EVIL_PORT),
// beside a lab version it runs on the lab's usual ports. With an attack, it starts the
// version before the fix and prints that attack's page; switch to the fix on the page.
// `npm run attack <name> --browser` does the same. Ctrl-C stops both.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appNames } from '../shared/config.ts';
import { attacks } from './attack.ts';
import { beforeAndFix, versionNumber } from './lib/lab.ts';
import { startEvil } from './lib/evil/site.ts';
import { stages } from './lib/evil/stages.ts';
import { findVersion, listVersions } from './versions.mjs';

/**
 * The version an attack's page starts with: the one just before its fix, where it works; or
 * the fix itself when no earlier version has anything for it to hit.
 */
export function startingVersion(name: string | undefined): string {
  const attack = name ? attacks[name] : undefined;
  if (!attack) return listVersions()[0]!;
  const pair = beforeAndFix(attack.fixedIn);
  const worksBefore = versionNumber(stages[name!]!.firstWith) < versionNumber(attack.fixedIn);
  return worksBefore ? pair[0]! : pair.at(-1)!;
}

export async function runEvil(name: string | undefined, requested: string | undefined) {
  if (name && !attacks[name]) {
    console.error(
      `There is no attack called "${name}". Attacks: ${Object.keys(attacks).join(', ')}`,
    );
    process.exit(1);
  }
  const version = requested ? findVersion(requested) : startingVersion(name);
  if (!version) {
    console.error(
      `There is no version called "${requested}". Versions: ${listVersions().join(', ')}`,
    );
    process.exit(1);
  }
  let site;
  try {
    site = await startEvil({ version });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
  const lab = site.lab().urls as Record<string, string>;
  const apps = Object.entries(appNames)
    .filter(([role]) => lab[role])
    .map(([role, name]) => `${name} ${lab[role]}`);
  console.log(`The lab runs ${version}: ${apps.join(' · ')}`);
  console.log(`The attacker's site: ${site.url}${name ? `/attacks/${name}` : ''}`);
  console.log(
    'Open it in a private window: the victim’s browser, with cookies of its own. Ctrl-C stops.',
  );
  const stop = () => void site.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, requested] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  await runEvil(name, requested);
}

// npm run v03 (or v03-pkce): start every app of a version, each in its own process, with
// coloured, prefixed logs. Ctrl-C stops them all.
//
// Plain JavaScript, so nothing has to load a TypeScript compiler before the apps start. The
// apps themselves are TypeScript: Node.js runs them as they are where it can strip types
// (22.18 and later), and through the tsx loader on older versions.

import { existsSync } from 'node:fs';
import path from 'node:path';
import concurrently from 'concurrently';
import { findVersion, unknownVersionMessage, versionsDir } from './versions.mjs';

// The apps a version can have, in start order, with their log prefix and page colour.
const apps = [
  { folder: 'auth-server', name: 'auth-server', color: 'red' },
  { folder: 'resource-server', name: 'resource-server', color: 'green' },
  { folder: 'agent', name: 'agent', color: 'magenta' },
  { folder: 'client', name: 'client', color: 'blue' },
];

const requested = process.argv[2];
const version = requested ? findVersion(requested) : undefined;
if (!version) {
  console.error(unknownVersionMessage(requested ?? ''));
  process.exit(1);
}

// Node.js strips TypeScript types itself from 22.18 on (process.features.typescript); before
// that, tsx does it. The warning silenced is Node 22's "type stripping is experimental".
const node = /\s/.test(process.execPath) ? JSON.stringify(process.execPath) : process.execPath;
const features = /** @type {{ typescript?: string | false }} */ (process.features);
const runTs = features.typescript
  ? `${node} --disable-warning=ExperimentalWarning`
  : `${node} --import tsx/esm`;

const root = path.join(versionsDir, version);
const commands = apps
  .filter((app) => existsSync(path.join(root, app.folder, 'main.ts')))
  .map((app) => ({
    name: app.name,
    prefixColor: app.color,
    command: `${runTs} ${app.folder}/main.ts`,
    cwd: root,
  }));

console.log(`OAuth Lab ${version}: open http://localhost:${process.env.CLIENT_PORT || 9000}`);

const { result } = concurrently(commands, {
  prefix: 'name',
  padPrefix: true,
  // If one app cannot start (a port in use), stop the others instead of half-running.
  killOthersOn: ['failure'],
});

result.then(
  () => process.exit(0),
  () => process.exit(1),
);

// startLab(): every app of this version in one process, for tests and scripts.

import { urlFor } from '../../shared/config.ts';
import { resolvePorts, stopAll, type RunningLab, type StartLabOptions } from '../../shared/lab.ts';
import { listen, portOf } from '../../shared/listen.ts';
import { createAuthServer } from './auth-server/index.ts';
import { createClient } from './client/index.ts';

export async function startLab(
  options: StartLabOptions = {},
): Promise<RunningLab<'as' | 'client'>> {
  const ports = resolvePorts(options.ports);
  // Listen first: with port 0 the real ports, and so every URL, are known only afterwards.
  const asServer = await listen('as', ports.as);
  const clientServer = await listen('client', ports.client).catch(async (err: unknown) => {
    await stopAll([asServer], []);
    throw err;
  });
  const urls = { as: urlFor(portOf(asServer)), client: urlFor(portOf(clientServer)) };
  const { log, now } = options;

  const authServer = createAuthServer({ baseUrl: urls.as, clientUrl: urls.client, log, now });
  const client = createClient({ baseUrl: urls.client, asUrl: urls.as, log, now });
  asServer.on('request', authServer.app);
  clientServer.on('request', client.app);

  return { urls, close: () => stopAll([asServer, clientServer], [authServer, client]) };
}

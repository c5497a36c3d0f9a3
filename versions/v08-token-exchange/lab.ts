// startLab(): every app of this version in one process, for tests and scripts.

import { urlFor } from '../../shared/config.ts';
import { resolvePorts, stopAll, type RunningLab, type StartLabOptions } from '../../shared/lab.ts';
import { listen, portOf } from '../../shared/listen.ts';
import { createAgent } from './agent/index.ts';
import { createAuthServer } from './auth-server/index.ts';
import { createClient } from './client/index.ts';
import { createResourceServer } from './resource-server/index.ts';

export async function startLab(
  options: StartLabOptions = {},
): Promise<RunningLab<'as' | 'client' | 'rs' | 'agent'>> {
  const ports = resolvePorts(options.ports);
  // Listen first: with port 0 the real ports, and so every URL, are known only afterwards.
  const asServer = await listen('as', ports.as);
  const rsServer = await listen('rs', ports.rs).catch(async (err: unknown) => {
    await stopAll([asServer], []);
    throw err;
  });
  const agentServer = await listen('agent', ports.agent).catch(async (err: unknown) => {
    await stopAll([asServer, rsServer], []);
    throw err;
  });
  const clientServer = await listen('client', ports.client).catch(async (err: unknown) => {
    await stopAll([asServer, rsServer, agentServer], []);
    throw err;
  });
  const urls = {
    as: urlFor(portOf(asServer)),
    rs: urlFor(portOf(rsServer)),
    agent: urlFor(portOf(agentServer)),
    client: urlFor(portOf(clientServer)),
  };
  const { log, now } = options;

  const authServer = createAuthServer({
    baseUrl: urls.as,
    clientUrl: urls.client,
    rsUrl: urls.rs,
    log,
    now,
  });
  const resourceServer = createResourceServer({ baseUrl: urls.rs, asUrl: urls.as, log, now });
  const agent = createAgent({ baseUrl: urls.agent, asUrl: urls.as, rsUrl: urls.rs, log, now });
  // The client is told only where the API is: it finds the AS from there (discovery).
  const client = createClient({
    baseUrl: urls.client,
    rsUrl: urls.rs,
    agentUrl: urls.agent,
    log,
    now,
  });
  asServer.on('request', authServer.app);
  rsServer.on('request', resourceServer.app);
  agentServer.on('request', agent.app);
  clientServer.on('request', client.app);

  return {
    urls,
    close: () =>
      stopAll(
        [asServer, rsServer, agentServer, clientServer],
        [authServer, resourceServer, agent, client],
      ),
  };
}

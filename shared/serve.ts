// Start one app as its own process (what `npm run v01` does for each app of a version).

import type { RequestListener } from 'node:http';
import { appNames, portsFromEnv, urlFor, type AppRole } from './config.ts';
import { closeServer, listen, PortInUseError } from './listen.ts';

export async function serve(
  role: AppRole,
  build: (ports: Record<AppRole, number>) => RequestListener,
): Promise<void> {
  let ports: Record<AppRole, number>;
  try {
    ports = portsFromEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
  let server;
  try {
    server = await listen(role, ports[role]);
  } catch (err) {
    if (err instanceof PortInUseError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  server.on('request', build(ports));
  console.log(`${appNames[role]} ready at ${urlFor(ports[role])}`);

  const stop = () => {
    void closeServer(server).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

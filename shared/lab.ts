// What every version's lab.ts builds on: ports for startLab, and a handle to stop it all.

import type http from 'node:http';
import { portsFromEnv, type AppRole } from './config.ts';
import { closeServer } from './listen.ts';

export interface StartLabOptions {
  /** One port for every app (0 = a free ephemeral port each), or one per app; default: env. */
  ports?: number | Partial<Record<AppRole, number>>;
  /** Log each request to stdout. Off by default so tests stay quiet. */
  log?: boolean;
  /** Clock for every store, so tests can make codes and tokens expire without waiting. */
  now?: () => number;
}

/** A started lab: the URL of each app it runs (R: which apps, e.g. 'as' | 'client'). */
export interface RunningLab<R extends AppRole = AppRole> {
  urls: Record<R, string>;
  close(): Promise<void>;
}

export function resolvePorts(ports: StartLabOptions['ports']): Record<AppRole, number> {
  const fromEnv = portsFromEnv();
  if (typeof ports === 'number') {
    return { client: ports, as: ports, rs: ports, agent: ports };
  }
  return { ...fromEnv, ...ports };
}

export async function stopAll(
  servers: http.Server[],
  apps: Array<{ close(): void }>,
): Promise<void> {
  apps.forEach((app) => app.close());
  await Promise.all(servers.map(closeServer));
}

// Ports and URLs for every app of a version, read from the environment.
//
// Every cross-reference (redirect URIs, issuer, metadata) is built from these values, so
// overriding a port with CLIENT_PORT=9100 moves everything that points at the client too.

export type AppRole = 'client' | 'as' | 'rs' | 'agent';

export const portEnv: Record<AppRole, string> = {
  client: 'CLIENT_PORT',
  as: 'AS_PORT',
  rs: 'RS_PORT',
  agent: 'AGENT_PORT',
};

export const defaultPorts: Record<AppRole, number> = {
  client: 9000,
  as: 9001,
  rs: 9002,
  agent: 9003,
};

export const appNames: Record<AppRole, string> = {
  client: 'Client',
  as: 'Authorization Server',
  rs: 'Resource Server',
  agent: 'Agent',
};

/** The port an app listens on: its env var when set, else the lab default. */
export function portFromEnv(role: AppRole, env: NodeJS.ProcessEnv = process.env): number {
  return portFromVariable(portEnv[role], defaultPorts[role], env);
}

/** A port from the environment variable `variable` (e.g. EVIL_PORT), else `fallback`. */
export function portFromVariable(
  variable: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${variable}=${raw} is not a port number (0-65535).`);
  }
  return port;
}

/** Browser-facing base URL of an app. No trailing slash. */
export function urlFor(port: number): string {
  return `http://localhost:${port}`;
}

/** Ports for each role, from the environment, for the `main.ts` of each app. */
export function portsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<AppRole, number> {
  return {
    client: portFromEnv('client', env),
    as: portFromEnv('as', env),
    rs: portFromEnv('rs', env),
    agent: portFromEnv('agent', env),
  };
}

// Loopback-only listening, with a one-line message when a port is already taken.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appNames, portEnv, type AppRole } from './config.ts';

// The lab ships with known passwords, so it must never be reachable from another machine.
export const LOOPBACK = '127.0.0.1';

/**
 * Who opens a port, for the message when it is taken: a lab app, or another of the lab's
 * programs (the attacker's site of npm run evil), with its port variable and a likely culprit.
 */
export type Listener = AppRole | { name: string; variable: string; usualCulprit: string };

export class PortInUseError extends Error {
  constructor(who: Listener, port: number) {
    const { name, variable, usualCulprit } =
      typeof who === 'string'
        ? { name: appNames[who], variable: portEnv[who], usualCulprit: 'another lab version?' }
        : who;
    super(
      `Port ${port} is already in use, so the ${name} cannot start. ` +
        `Stop whatever uses it (${usualCulprit}) or pick another port: ${variable}=${port + 100}`,
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Open an HTTP server on 127.0.0.1 with no request handler yet. Port 0 picks a free port.
 * Listening first lets a lab learn its real ports before it builds apps whose URLs
 * (redirect URIs, issuer) depend on them.
 */
export function listen(who: Listener, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(who, port) : err);
    });
    server.listen(port, LOOPBACK, () => resolve(server));
  });
}

export function portOf(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

/** Close a server, dropping idle keep-alive connections so the port frees at once. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

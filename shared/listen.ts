// Loopback-only listening, with a one-line message when a port is already taken.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { appNames, portEnv, type AppRole } from './config.ts';

// The lab ships with known passwords, so it must never be reachable from another machine.
export const LOOPBACK = '127.0.0.1';

export class PortInUseError extends Error {
  constructor(role: AppRole, port: number) {
    super(
      `Port ${port} is already in use, so the ${appNames[role]} cannot start. ` +
        `Stop whatever uses it (another lab version?) or pick another port: ${portEnv[role]}=${port + 100}`,
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Open an HTTP server on 127.0.0.1 with no request handler yet. Port 0 picks a free port.
 * Listening first lets a lab learn its real ports before it builds apps whose URLs
 * (redirect URIs, issuer) depend on them.
 */
export function listen(role: AppRole, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(role, port) : err);
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

// The client: a web app that wants to act for the user, so it sends them to the AS.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../../shared/app.ts';
import { transcriptOf } from '../../../shared/transcript.ts';
import { loginRoutes } from './login.ts';

export interface ClientConfig {
  /** This app's own URL, e.g. http://localhost:9000. */
  baseUrl: string;
  /** The authorization server's URL, e.g. http://localhost:9001. */
  asUrl: string;
  log?: boolean;
  now?: () => number;
}

export function createClient(config: ClientConfig) {
  const lab = createApp({
    role: 'client',
    baseUrl: config.baseUrl,
    views: path.join(path.dirname(fileURLToPath(import.meta.url)), 'views'),
    log: config.log,
    now: config.now,
  });
  const { app } = lab;

  // What the AS has on file for us (see auth-server/clients.ts).
  const clientId = 'demo-client';
  const redirectUri = `${config.baseUrl}/callback`;

  app.get('/', (req, res) => {
    res.render('home', { hops: transcriptOf(req), asUrl: config.asUrl });
  });

  app.use(
    loginRoutes({
      baseUrl: config.baseUrl,
      asUrl: config.asUrl,
      clientId,
      redirectUri,
    }),
  );

  lab.debug(() => ({
    config: { clientId, redirectUri, authorizationServer: config.asUrl },
  }));

  return {
    app: lab.finish(),
    close() {
      lab.close();
    },
  };
}

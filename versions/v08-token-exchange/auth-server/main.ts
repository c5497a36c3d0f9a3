// Run the authorization server as its own process; `npm run vNN` starts this file.

import { urlFor } from '../../../shared/config.ts';
import { serve } from '../../../shared/serve.ts';
import { createAuthServer } from './index.ts';
import { MAX_ACCESS_TOKEN_TTL_MS } from './tokens.ts';

// ACCESS_TOKEN_TTL=300 (in seconds) makes access tokens live 5 minutes instead of 60 s.
const ttlSeconds = Number(process.env.ACCESS_TOKEN_TTL);
const accessTokenTtlMs = ttlSeconds > 0 ? ttlSeconds * 1000 : undefined;
if (ttlSeconds > MAX_ACCESS_TOKEN_TTL_MS / 1000) {
  console.warn(`ACCESS_TOKEN_TTL: at most ${MAX_ACCESS_TOKEN_TTL_MS / 1000} s in this version.`);
}

await serve(
  'as',
  (ports) =>
    createAuthServer({
      baseUrl: urlFor(ports.as),
      clientUrl: urlFor(ports.client),
      rsUrl: urlFor(ports.rs),
      accessTokenTtlMs,
      log: true,
    }).app,
);

// Run the authorization server as its own process; `npm run vNN` starts this file.

import { urlFor } from '../../../shared/config.ts';
import { serve } from '../../../shared/serve.ts';
import { createAuthServer } from './index.ts';

await serve(
  'as',
  (ports) =>
    createAuthServer({ baseUrl: urlFor(ports.as), clientUrl: urlFor(ports.client), log: true }).app,
);

// Run the client as its own process; `npm run vNN` starts this file.

import { urlFor } from '../../../shared/config.ts';
import { serve } from '../../../shared/serve.ts';
import { createClient } from './index.ts';

await serve(
  'client',
  (ports) =>
    createClient({
      baseUrl: urlFor(ports.client),
      rsUrl: urlFor(ports.rs),
      agentUrl: urlFor(ports.agent),
      log: true,
    }).app,
);

// Run the agent as its own process; `npm run vNN` starts this file.

import { urlFor } from '../../../shared/config.ts';
import { serve } from '../../../shared/serve.ts';
import { createAgent } from './index.ts';

await serve(
  'agent',
  (ports) =>
    createAgent({
      baseUrl: urlFor(ports.agent),
      asUrl: urlFor(ports.as),
      rsUrl: urlFor(ports.rs),
      log: true,
    }).app,
);

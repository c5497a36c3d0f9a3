// Run the resource server as its own process; `npm run vNN` starts this file.

import { urlFor } from '../../../shared/config.ts';
import { serve } from '../../../shared/serve.ts';
import { createResourceServer, type ValidationMode } from './index.ts';

// RS_VALIDATION=introspection npm run v06 makes the RS ask the AS about every token.
const validation = (process.env.RS_VALIDATION || 'jwt') as ValidationMode;
if (validation !== 'jwt' && validation !== 'introspection') {
  console.error(`RS_VALIDATION is jwt (the default) or introspection, not "${validation}".`);
  process.exit(1);
}

await serve(
  'rs',
  (ports) =>
    createResourceServer({
      baseUrl: urlFor(ports.rs),
      asUrl: urlFor(ports.as),
      validation,
      log: true,
    }).app,
);

// Run the resource server as its own process; `npm run vNN` starts this file.

import { urlFor } from '../../../shared/config.ts';
import { serve } from '../../../shared/serve.ts';
import { createResourceServer, type ValidationMode } from './index.ts';

// RS_VALIDATION=introspection npm run v06 makes the RS ask the AS about every token.
const validation: ValidationMode =
  process.env.RS_VALIDATION === 'introspection' ? 'introspection' : 'jwt';

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

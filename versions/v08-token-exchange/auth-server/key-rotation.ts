// POST /keys/rotate and /keys/retire: key rotation, from the AS's home page. lab: anyone who
// can open the AS's pages may do it; a real AS rotates on a schedule, or when a key leaks.

import { Router } from 'express';
import { validCsrf } from '../../../shared/csrf.ts';
import { OAuthError, showError } from './errors.ts';
import type { SigningKeys } from './keys.ts';

export function keyRotationRoutes({ keys }: { keys: SigningKeys }): Router {
  const router = Router();

  router.post('/keys/:action', (req, res) => {
    const { action } = req.params;
    if (!validCsrf(req)) {
      // lab: not an RFC error code; this page is the AS's own.
      const description = 'This form did not come from a page of this server, so it was ignored.';
      return showError(res, new OAuthError('invalid_csrf_token', description, 403), {
        title: 'Form refused',
      });
    }
    if (action === 'rotate') keys.rotate();
    else if (action === 'retire') keys.retire();
    else {
      return showError(res, new OAuthError('invalid_request', 'Rotate or retire, nothing else.'), {
        title: 'Form refused',
      });
    }
    res.redirect(303, '/#keys');
  });

  return router;
}

// Logout at the AS: GET /logout asks, POST /logout ends the AS session. A client can send
// the browser here after ending its own session (logging out of one does not log you out
// of the other: they are separate sessions on separate servers).

import { Router } from 'express';
import { csrfToken, validCsrf } from '../../../shared/csrf.ts';
import type { Client } from './clients.ts';
import { OAuthError, showError } from './errors.ts';

interface Deps {
  clients: Map<string, Client>;
}

export function logoutRoutes({ clients }: Deps): Router {
  const router = Router();

  // Where "back to the app" goes: the origin of a registered client, never a free URL.
  const returnUrlFor = (clientId: unknown) => {
    const client = typeof clientId === 'string' ? clients.get(clientId) : undefined;
    const uri = client?.redirectUris[0];
    return uri ? { name: client.name, url: new URL(uri).origin } : undefined;
  };

  router.get('/logout', (req, res) => {
    res.render('logout', {
      title: 'Log out',
      user: req.session.user,
      loggedOut: false,
      back: returnUrlFor(req.query.client_id),
      clientId: typeof req.query.client_id === 'string' ? req.query.client_id : '',
      csrfToken: csrfToken(req),
    });
  });

  router.post('/logout', (req, res, next) => {
    const back = returnUrlFor((req.body as Record<string, unknown> | undefined)?.client_id);
    if (!validCsrf(req)) {
      // lab: not an RFC error code; this page is the AS's own.
      const description =
        'This logout form did not come from a page of this server, so it was ignored.';
      return showError(res, new OAuthError('invalid_csrf_token', description, 403), {
        title: 'Form refused',
      });
    }
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie('as.sid');
      res.render('logout', {
        title: 'Logged out',
        user: undefined,
        loggedOut: true,
        back,
        clientId: '',
        csrfToken: '',
      });
    });
  });

  return router;
}

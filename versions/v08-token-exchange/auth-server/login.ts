// GET /login shows the form; POST /login checks the password and resumes the paused request.

import { Router, type Request, type Response } from 'express';
import { renewSession } from '../../../shared/session-store.ts';
import { csrfToken, validCsrf } from '../../../shared/csrf.ts';
import type { Client } from './clients.ts';
import { checkPassword, type User } from './users.ts';

const WRONG_PASSWORD = 'Wrong username or password. Try user0 / password0.';
const FORM_EXPIRED = 'This form expired or did not come from this server. Please log in again.';

interface Deps {
  clients: Map<string, Client>;
  users: Map<string, User>;
  now: () => number;
}

export function loginRoutes({ clients, users, now }: Deps): Router {
  const router = Router();

  // What the paused authorization request asks for, so the login page can say who sent you.
  const pendingOf = (pending: string | undefined) => {
    if (!pending) return undefined;
    const params = Object.fromEntries(new URL(pending, 'http://as.invalid').searchParams);
    const client = clients.get(params.client_id ?? '');
    return { params, clientName: client?.name ?? params.client_id };
  };

  const showForm = (req: Request, res: Response, username = '', error?: string) => {
    res.render('login', {
      title: 'Log in',
      pending: pendingOf(req.session.pendingAuthorize),
      username,
      error,
      csrfToken: csrfToken(req),
    });
  };

  router.get('/login', (req, res) => showForm(req, res));

  router.post('/login', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    // Login CSRF: another site's page can post this form with the attacker's password, and the
    // victim's browser would then be logged in here as the attacker. Only a page this server
    // served knows the session's form token.
    if (!validCsrf(req)) return showForm(req, res.status(403), username, FORM_EXPIRED);
    const user = checkPassword(users, username, password);
    if (!user) return showForm(req, res.status(401), username, WRONG_PASSWORD);

    // lab: a fresh session id at login, so an id planted in the browser before login (session
    // fixation) is worthless afterwards. The paused request is resumed in the new session.
    const pending = req.session.pendingAuthorize;
    await renewSession(req, {
      user: { username: user.username, loggedInAt: new Date(now()).toISOString() },
      // A login that just happened for this request: prompt=login and max_age are satisfied.
      freshLoginFor: pending,
    });
    // 303 makes the browser follow with a GET; 307 would re-POST the password to wherever
    // we point it (RFC 9700 §4.12).
    res.redirect(303, pending ?? '/');
  });

  return router;
}

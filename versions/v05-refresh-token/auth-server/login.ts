// GET /login shows the form; POST /login checks the password and resumes the paused request.

import { Router } from 'express';
import type { Client } from './clients.ts';
import { csrfToken, validCsrf } from './csrf.ts';
import { checkPassword, type User } from './users.ts';

interface Deps {
  clients: Map<string, Client>;
  users: Map<string, User>;
}

export function loginRoutes({ clients, users }: Deps): Router {
  const router = Router();

  // What the paused authorization request asks for, so the login page can say who sent you.
  const pendingOf = (pending: string | undefined) => {
    if (!pending) return undefined;
    const params = Object.fromEntries(new URL(pending, 'http://as.invalid').searchParams);
    const client = clients.get(params.client_id ?? '');
    return { params, clientName: client?.name ?? params.client_id };
  };

  router.get('/login', (req, res) => {
    res.render('login', {
      title: 'Log in',
      pending: pendingOf(req.session.pendingAuthorize),
      username: '',
      error: undefined,
      csrfToken: csrfToken(req),
    });
  });

  router.post('/login', (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const username = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!validCsrf(req)) {
      res.status(403).render('login', {
        title: 'Log in',
        pending: pendingOf(req.session.pendingAuthorize),
        username,
        error: 'This form expired or did not come from this server. Please log in again.',
        csrfToken: csrfToken(req),
      });
      return;
    }
    const user = checkPassword(users, username, password);
    if (!user) {
      res.status(401).render('login', {
        title: 'Log in',
        pending: pendingOf(req.session.pendingAuthorize),
        username,
        error: 'Wrong username or password. Try user0 / password0.',
        csrfToken: csrfToken(req),
      });
      return;
    }

    // lab: a fresh session id at login, so an id planted in the browser before login (session
    // fixation) is worthless afterwards. The paused request is carried over.
    const pending = req.session.pendingAuthorize;
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = { username: user.username, loggedInAt: new Date().toISOString() };
      // 303 makes the browser follow with a GET; 307 would re-POST the password to wherever
      // we point it (RFC 9700 §4.12).
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect(303, pending ?? '/')));
    });
  });

  return router;
}

// The protected API (the resource server role, played by the AS process for now):
// GET /api/me needs `profile`, GET /api/notes `notes:read`, POST /api/notes `notes:write`.

import express, { Router } from 'express';
import { noStore } from '../../../shared/no-store.ts';
import type { Store } from '../../../shared/store.ts';
import { requireToken } from './bearer.ts';
import { OAuthError, sendError } from './errors.ts';
import type { AccessToken } from './tokens.ts';
import type { User } from './users.ts';

export interface Note {
  text: string;
  createdAt: string;
  /** The client that wrote it, on the user's behalf. */
  via: string;
}

const MAX_NOTE_LENGTH = 280;
const MAX_NOTES_PER_USER = 50;

interface Deps {
  accessTokens: Store<AccessToken>;
  users: Map<string, User>;
  notes: Map<string, Note[]>;
}

export function apiRoutes({ accessTokens, users, notes }: Deps): Router {
  const router = Router();
  router.use('/api', noStore, express.json({ limit: '10kb' }));

  router.get('/api/me', requireToken(accessTokens, 'profile'), (_req, res) => {
    const { username } = res.locals.token as AccessToken;
    const user = users.get(username)!;
    res.json({ username: user.username, name: user.name });
  });

  router.get('/api/notes', requireToken(accessTokens, 'notes:read'), (_req, res) => {
    const { username } = res.locals.token as AccessToken;
    res.json({ notes: notes.get(username) ?? [] });
  });

  router.post('/api/notes', requireToken(accessTokens, 'notes:write'), (req, res) => {
    const { username, clientId } = res.locals.token as AccessToken;
    const text = (req.body as Record<string, unknown> | undefined)?.text;
    if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_NOTE_LENGTH) {
      const description = `A note needs a text of 1 to ${MAX_NOTE_LENGTH} characters.`;
      return sendError(res, new OAuthError('invalid_request', description));
    }
    const note = { text: text.trim(), createdAt: new Date().toISOString(), via: clientId };
    // Bounded, like every store in the lab: the oldest notes go first.
    notes.set(username, [...(notes.get(username) ?? []), note].slice(-MAX_NOTES_PER_USER));
    res.status(201).json({ note });
  });

  return router;
}

/** A couple of notes per user, so there is something to read on the first visit. */
export function createNotes(): Map<string, Note[]> {
  const at = new Date().toISOString();
  return new Map([
    [
      'user0',
      [{ text: 'Buy a new notebook for the analytical engine', createdAt: at, via: 'seed' }],
    ],
    ['user1', [{ text: 'Check the bombe settings before lunch', createdAt: at, via: 'seed' }]],
  ]);
}

// The protected API, on a server of its own now: GET /api/me needs `profile`, GET /api/notes
// `notes:read`, POST /api/notes `notes:write`.

import express, { Router, type RequestHandler } from 'express';
import { noStore } from '../../../shared/no-store.ts';
import type { ValidToken } from './bearer.ts';
import { OAuthError, sendError } from './errors.ts';

export interface Note {
  text: string;
  createdAt: string;
  /** The client that wrote it, on the user's behalf. */
  via: string;
}

const MAX_NOTE_LENGTH = 280;
const MAX_NOTES_PER_USER = 50;

/** What this API knows of its users, by the `sub` the AS puts in their tokens. */
export interface Profile {
  username: string;
  name: string;
}

interface Deps {
  /** Middleware that lets through only a valid token with the given scope (bearer.ts). */
  requireToken: (scope: string) => RequestHandler;
  profiles: Map<string, Profile>;
  notes: Map<string, Note[]>;
}

export function apiRoutes({ requireToken, profiles, notes }: Deps): Router {
  const router = Router();
  router.use('/api', noStore, express.json({ limit: '10kb' }));

  router.get('/api/me', requireToken('profile'), (_req, res) => {
    const { sub } = res.locals.token as ValidToken;
    const profile = profiles.get(sub);
    res.json({ username: sub, name: profile?.name ?? sub });
  });

  router.get('/api/notes', requireToken('notes:read'), (_req, res) => {
    const { sub } = res.locals.token as ValidToken;
    res.json({ notes: notes.get(sub) ?? [] });
  });

  router.post('/api/notes', requireToken('notes:write'), (req, res) => {
    const { sub: username, clientId } = res.locals.token as ValidToken;
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

/** The users this API has records of: the same people the AS knows, by username. */
export function createProfiles(): Map<string, Profile> {
  const profiles: Profile[] = [
    { username: 'user0', name: 'Ada Lovelace' },
    { username: 'user1', name: 'Alan Turing' },
  ];
  return new Map(profiles.map((profile) => [profile.username, profile]));
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

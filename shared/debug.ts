// GET /debug/state and /debug/state.json: everything the app holds, secrets included.
// A real server would never show this; in a lab, seeing the state is the point.

import { Router, type Request } from 'express';
import { noStore } from './no-store.ts';
import type { ExpiringSessionStore } from './session-store.ts';

/** Named sections of in-memory storage, e.g. { clients, users, codes }. */
export type DebugState = Record<string, unknown>;

export function debugRoutes(state: (req: Request) => DebugState, sessions: ExpiringSessionStore) {
  const router = Router();

  const snapshot = (req: Request) => ({
    yourSession: { sessionId: req.sessionID, ...req.session },
    ...state(req),
    allSessions: sessions.list(),
    sessionPools: sessions.stats(),
  });

  router.use('/debug', noStore);

  router.get('/debug/state.json', (req, res) => {
    res.json(snapshot(req));
  });

  router.get('/debug/state', (req, res) => {
    const sections = Object.entries(snapshot(req)).map(([name, value]) => ({
      name,
      json: value === undefined ? '(nothing)' : JSON.stringify(value, null, 2),
    }));
    res.render('debug', { title: 'Debug: state', sections });
  });

  return router;
}

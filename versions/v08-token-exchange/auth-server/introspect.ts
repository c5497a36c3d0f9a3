// POST /introspect (RFC 7662): a resource server asks the AS whether an access token is still
// good, and what it allows. A JWT can tell a resource server everything but one thing: whether
// it was revoked since it was signed. The AS knows; introspection is how to ask.

import { Router } from 'express';
import { noStore } from '../../../shared/no-store.ts';
import { authenticateClient, invalidClient } from './client-auth.ts';
import type { Client } from './clients.ts';
import { formBody, OAuthError, oneParam, sendError } from './errors.ts';
import type { Resource } from './resources.ts';
import { liveAccessToken, type Signer, type TokenStores } from './tokens.ts';

interface Deps extends TokenStores, Signer {
  clients: Map<string, Client>;
  resources: Map<string, Resource>;
}

export function introspectRoutes(deps: Deps): Router {
  const router = Router();
  router.use('/introspect', noStore);

  router.post('/introspect', async (req, res) => {
    try {
      const body = formBody(req);
      // RFC 7662 §2.1: the caller must be authorized to ask. lab: a registered resource
      // server, with its own credentials (RFC 7662 §2.3: else 401).
      const caller = authenticateClient(req, deps.clients);
      const resource = [...deps.resources.values()].find(
        (registered) => registered.introspector === caller.clientId,
      );
      if (!resource) throw invalidClient(`${caller.clientId} may not introspect tokens.`);
      const token = oneParam(body, 'token');
      if (!token) throw new OAuthError('invalid_request', 'The token parameter is missing.');

      // RFC 7662 §2.2: anything but a live token of ours is just {"active": false}: unknown,
      // garbage, expired, revoked, and (lab, RFC 7662 §4) a token meant for another resource,
      // which is none of this caller's business.
      const live = await liveAccessToken(deps, token);
      if (!live || !live.record.resources.includes(resource.uri)) {
        res.json({ active: false });
        return;
      }
      const { claims, record } = live;
      res.json({
        active: true,
        scope: record.scope,
        client_id: record.clientId,
        username: record.username,
        token_type: 'Bearer',
        exp: claims.exp,
        iat: claims.iat,
        sub: claims.sub,
        aud: claims.aud,
        iss: claims.iss,
        jti: live.jti,
        // RFC 8693 §4.1: who acts for the user, for a token made by exchange; lab: its task.
        ...(record.act ? { act: record.act } : {}),
        ...(record.task ? { task_id: record.task.id } : {}),
      });
    } catch (err) {
      if (err instanceof OAuthError) return sendError(res, err);
      throw err;
    }
  });

  return router;
}

// POST /revoke: a client tells the AS it no longer needs a token (RFC 7009).

import { Router } from 'express';
import { noStore } from '../../../shared/no-store.ts';
import { authenticateClient } from './client-auth.ts';
import type { Client } from './clients.ts';
import { formBody, OAuthError, oneParam, sendError } from './errors.ts';
import {
  liveAccessToken,
  revokeDerived,
  revokeFamily,
  type Signer,
  type TokenStores,
} from './tokens.ts';

interface Deps extends TokenStores, Signer {
  clients: Map<string, Client>;
}

const HINTS = ['access_token', 'refresh_token'];

export function revokeRoutes(deps: Deps): Router {
  const router = Router();

  router.use('/revoke', noStore);

  router.post('/revoke', async (req, res) => {
    try {
      const body = formBody(req);
      // RFC 7009 §2.1: the client authenticates, and may only revoke its own tokens.
      const client = authenticateClient(req, deps.clients);
      const token = oneParam(body, 'token');
      if (!token) throw new OAuthError('invalid_request', 'The token parameter is missing.');
      const hint = oneParam(body, 'token_type_hint');
      if (hint !== undefined && !HINTS.includes(hint)) {
        // RFC 7009 §2.2.1.
        const description = 'The token_type_hint is neither access_token nor refresh_token.';
        throw new OAuthError('unsupported_token_type', description);
      }

      // The hint only says where to look first (RFC 7009 §2.1): a wrong hint still works. An
      // access token is a JWT: the AS finds its record by the `jti` inside.
      const live = await liveAccessToken(deps, token);
      const access = live?.record;
      const refresh = deps.refreshTokens.get(token);
      const found = hint === 'refresh_token' ? (refresh ?? access) : (access ?? refresh);
      if (found && found.clientId !== client.clientId) {
        // lab: RFC 7009 §2.1 says refuse, and names no error code.
        throw new OAuthError('invalid_request', 'This token was issued to another client.');
      }
      if (found === refresh && refresh) {
        // Revoking a refresh token revokes the grant: its access tokens too (RFC 7009 §2.1).
        revokeFamily(deps, refresh.code);
      } else if (live) {
        deps.accessTokens.delete(live.jti);
        // And every token an agent made from it by exchange, at every depth (RFC 8693).
        revokeDerived(deps, live.jti);
      }
      // RFC 7009 §2.2: 200 whether or not the token existed: unknown, expired and revoked
      // tokens all look alike.
      res.status(200).end();
    } catch (err) {
      if (err instanceof OAuthError) return sendError(res, err);
      throw err;
    }
  });

  return router;
}

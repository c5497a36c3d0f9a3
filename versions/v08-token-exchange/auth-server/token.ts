// POST /token: the back channel, where a grant becomes tokens (RFC 6749 §3.2). The client
// authenticates, names its grant_type, and the handler for that grant (grants/) checks the
// rest: the authorization code (RFC 6749 §4.1.3), a refresh token (RFC 6749 §6), the client's
// own credentials (RFC 6749 §4.4) or a token to exchange (RFC 8693).

import { Router } from 'express';
import { noStore } from '../../../shared/no-store.ts';
import type { Store } from '../../../shared/store.ts';
import type { CodeGrant } from './authorize.ts';
import { authenticateClient } from './client-auth.ts';
import { TOKEN_EXCHANGE, type Client } from './clients.ts';
import { formBody, OAuthError, oneParam, sendError } from './errors.ts';
import { authorizationCode } from './grants/authorization-code.ts';
import { clientCredentials } from './grants/client-credentials.ts';
import { refreshToken } from './grants/refresh-token.ts';
import { tokenExchange } from './grants/token-exchange.ts';
import type { Signer, TokenResponse, TokenStores } from './tokens.ts';

export interface Deps extends TokenStores, Signer {
  clients: Map<string, Client>;
  codes: Store<CodeGrant>;
}

/**
 * A grant type's handler: checks the grant in the request and issues tokens for it. A code or
 * a refresh token is checked and used before anything waits; only signing the access token
 * does. A token exchange waits to verify the tokens it is shown: nothing in it is single-use.
 */
type Grant = (body: Record<string, unknown>, client: Client, deps: Deps) => Promise<TokenResponse>;

const GRANTS: Record<string, Grant> = {
  authorization_code: authorizationCode,
  refresh_token: refreshToken,
  client_credentials: clientCredentials,
  [TOKEN_EXCHANGE]: tokenExchange,
};

export function tokenRoutes(deps: Deps): Router {
  const router = Router();
  // RFC 6749 §5.1: token responses must not be cached. lab: errors neither.
  router.use('/token', noStore);

  router.post('/token', async (req, res) => {
    try {
      const body = formBody(req);
      const client = authenticateClient(req, deps.clients);
      const grantType = oneParam(body, 'grant_type');
      if (!grantType)
        throw new OAuthError('invalid_request', 'The grant_type parameter is missing.');
      const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
      if (!grant) {
        throw new OAuthError(
          'unsupported_grant_type',
          'This server does not support that grant_type.',
        );
      }
      if (!client.grantTypes.includes(grantType)) {
        throw new OAuthError(
          'unauthorized_client',
          `${client.clientId} may not use that grant_type.`,
        );
      }
      res.json(await grant(body, client, deps));
    } catch (err) {
      if (err instanceof OAuthError) return sendError(res, err);
      throw err;
    }
  });

  return router;
}

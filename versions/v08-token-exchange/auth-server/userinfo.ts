// GET or POST /userinfo (OpenID Connect Core §5.3): the claims about the user that the granted
// scopes allow, for a Bearer access token with `openid`. The id_token says who logged in; this
// is where the client reads more about them.

import { Router, type Request, type Response } from 'express';
import { noStore } from '../../../shared/no-store.ts';
import { bearerError, OAuthError } from './errors.ts';
import { liveAccessToken, type Signer, type TokenStores } from './tokens.ts';
import type { User } from './users.ts';

interface Deps extends TokenStores, Signer {
  users: Map<string, User>;
}

// RFC 6750 §2.1: b64token syntax; the scheme name is case-insensitive (RFC 9110 §11.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function userinfoRoutes(deps: Deps): Router {
  const router = Router();
  router.use('/userinfo', noStore);

  const userinfo = async (req: Request, res: Response) => {
    // lab: the token in the Authorization header only (Core §5.3.1 recommends it; RFC 6750
    // §2.2 and §2.3 are not offered). No credentials: a bare challenge (RFC 6750 §3.1).
    const header = req.get('authorization');
    if (!header || !/^bearer(\s|$)/i.test(header)) {
      const description = 'Send an access token: Authorization: Bearer <token>.';
      return bearerError(res, new OAuthError('invalid_token', description, 401), { bare: true });
    }
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      const description = 'The Authorization header is not Bearer followed by one token.';
      return bearerError(res, new OAuthError('invalid_request', description));
    }
    // A token this AS signed, still alive and not revoked.
    const live = await liveAccessToken(deps, match[1]);
    if (!live) {
      const description = 'The access token is unknown, expired or revoked.';
      return bearerError(res, new OAuthError('invalid_token', description, 401));
    }
    // RFC 6750 §3.1: a good token without the scope is a 403 that names the scope it needs.
    const scopes = live.record.scope.split(' ');
    if (!scopes.includes('openid')) {
      const description = 'The userinfo endpoint needs a token with the openid scope.';
      const err = new OAuthError('insufficient_scope', description, 403);
      return bearerError(res, err, { scope: 'openid' });
    }
    // lab: a token with openid names this AS in its aud (tokens.ts); without it, not for here.
    if (![live.claims.aud ?? []].flat().includes(deps.issuer)) {
      const description = 'The access token is not meant for /userinfo: its aud does not name it.';
      return bearerError(res, new OAuthError('invalid_token', description, 401));
    }
    // Core §5.4: `sub` always; what else, the scopes decide.
    const user = deps.users.get(live.record.username)!;
    res.json({
      sub: user.username,
      ...(scopes.includes('profile') ? { name: user.name, preferred_username: user.username } : {}),
      // lab: the addresses are made up, but the AS says they are verified (Core §5.1).
      ...(scopes.includes('email') ? { email: user.email, email_verified: true } : {}),
    });
  };
  router.get('/userinfo', userinfo);
  router.post('/userinfo', userinfo);

  return router;
}

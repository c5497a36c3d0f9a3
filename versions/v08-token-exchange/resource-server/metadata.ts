// GET /.well-known/oauth-protected-resource (RFC 9728): what a client needs to know to call
// this API, starting from nothing but its URL: which AS issues its tokens, which scopes it
// understands, how it takes a token. Every 401 this API sends points here (§5.1).

import { Router } from 'express';

interface Deps {
  /** This resource's identifier: its base URL. A client checks it is the URL it used (§3.3). */
  resource: string;
  authorizationServer: string;
  scopes: string[];
}

export const METADATA_PATH = '/.well-known/oauth-protected-resource';

export function metadataRoutes({ resource, authorizationServer, scopes }: Deps): Router {
  const router = Router();
  router.get(METADATA_PATH, (_req, res) => {
    res.json({
      resource,
      resource_name: 'Notes API',
      authorization_servers: [authorizationServer],
      scopes_supported: scopes,
      // lab: only the Authorization header (RFC 6750 §2.1).
      bearer_methods_supported: ['header'],
    });
  });
  return router;
}

// How clients and resource servers find this AS and trust what it signs: its metadata
// (RFC 8414, and OpenID Connect Discovery), at well-known URLs built from its issuer, and its
// public keys (RFC 7517).

import { Router } from 'express';
import { TOKEN_EXCHANGE } from './clients.ts';
import type { SigningKeys } from './keys.ts';
import { SCOPES } from './scopes.ts';

interface Deps {
  /** This AS's issuer identifier: its base URL, no trailing slash. */
  issuer: string;
  keys: SigningKeys;
}

export function metadataRoutes({ issuer, keys }: Deps): Router {
  const router = Router();

  // One document, served twice. RFC 8414 §3: at /.well-known/oauth-authorization-server under
  // the issuer; whoever fetches it checks that `issuer` is exactly the URL it built it from
  // (§3.3). OpenID Connect Discovery §4: at /.well-known/openid-configuration, the same way.
  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks.json`,
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    scopes_supported: Object.keys(SCOPES),
    response_types_supported: ['code'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      TOKEN_EXCHANGE,
    ],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207 §3: every authorization response carries `iss`; a client must check it.
    authorization_response_iss_parameter_supported: true,
    // OpenID Connect Discovery §3: required for an OpenID Provider.
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    // Every claim this server may hand out, in the id_token or from /userinfo.
    claims_supported: [
      ...['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash'],
      ...['name', 'preferred_username', 'email', 'email_verified'],
    ],
  };
  router.get('/.well-known/oauth-authorization-server', (_req, res) => {
    res.json(metadata);
  });
  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json(metadata);
  });

  // RFC 7517 §5: the public keys, each with its `kid`. Never a private parameter.
  router.get('/jwks.json', (_req, res) => {
    res.json(keys.jwks());
  });

  return router;
}

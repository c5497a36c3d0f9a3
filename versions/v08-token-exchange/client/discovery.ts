// Discovery: the client is told only where the API is, and finds everything else from there,
// the way an MCP client does. It calls the API without a token; the 401 points to the API's
// metadata (RFC 9728 §5.1); that names the authorization server; the AS's own metadata
// (its OpenID Connect configuration, a superset of RFC 8414's) gives its endpoints and keys.
// Each document is checked to describe exactly the party the client asked about, so nobody
// can send the client's users and codes elsewhere.

import type { Request } from 'express';
import { backChannel } from './back-channel.ts';

/** What the client knows of the AS: all it learned by discovery. */
export interface AuthorizationServer {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  userinfoEndpoint: string;
  jwksUri: string;
  /** RFC 9207 §3: the AS puts `iss` in every authorization response; the client then requires it. */
  issParameterSupported: boolean;
}

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

const asText = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Find the AS that issues tokens for the API at `rsUrl`; throws a DiscoveryError saying why not. */
export async function discover(req: Request, rsUrl: string): Promise<AuthorizationServer> {
  // 1. Call the API as a stranger: RFC 9728 §5.1, the 401 names the API's metadata.
  const probe = await backChannel(req, {
    method: 'GET',
    url: `${rsUrl}/api/me`,
    headers: {},
    to: 'Resource Server',
    titles: {
      request: 'Discovery 1: the client calls the API without a token',
      ok: 'The API answered without a token?',
      failed: 'The API refuses, and says where its metadata is',
    },
  });
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(probe.wwwAuthenticate ?? '')?.[1];
  if (probe.status !== 401 || !metadataUrl) {
    throw new DiscoveryError('The API did not answer 401 with a resource_metadata parameter.');
  }

  // 2. The API's metadata (RFC 9728 §3). §3.3: its `resource` must be exactly the URL the
  // client started from, or it describes some other API.
  const resource = await backChannel(req, {
    method: 'GET',
    url: metadataUrl,
    headers: {},
    to: 'Resource Server',
    titles: {
      request: 'Discovery 2: the client reads the API’s metadata (RFC 9728)',
      ok: 'The API’s metadata: its authorization server',
      failed: 'The API’s metadata could not be read',
    },
  });
  if (resource.body.resource !== rsUrl) {
    throw new DiscoveryError(
      `The API's metadata describes ${String(resource.body.resource)}, not ${rsUrl}: refused (RFC 9728 §3.3).`,
    );
  }
  const issuer = asText([resource.body.authorization_servers].flat()[0]);
  if (!issuer || !URL.canParse(issuer)) {
    throw new DiscoveryError('The API’s metadata names no authorization server URL.');
  }

  // 3. The AS's OpenID Connect configuration (OpenID Connect Discovery §4), at the well-known
  // path appended to its issuer. §4.3: its `issuer` must be exactly the one the client built
  // the URL from (as for RFC 8414 §3.3).
  const as = await backChannel(req, {
    method: 'GET',
    url: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    headers: {},
    to: 'Authorization Server',
    titles: {
      request: 'Discovery 3: the client reads the authorization server’s OpenID configuration',
      ok: 'The authorization server’s metadata: its endpoints and keys',
      failed: 'The authorization server’s metadata could not be read',
    },
  });
  if (as.body.issuer !== issuer) {
    throw new DiscoveryError(
      `The authorization server's metadata names the issuer ${String(as.body.issuer)}, not ${issuer}: refused (OpenID Connect Discovery §4.3).`,
    );
  }
  const endpoints = {
    authorizationEndpoint: asText(as.body.authorization_endpoint),
    tokenEndpoint: asText(as.body.token_endpoint),
    revocationEndpoint: asText(as.body.revocation_endpoint),
    userinfoEndpoint: asText(as.body.userinfo_endpoint),
    jwksUri: asText(as.body.jwks_uri),
  };
  if (Object.values(endpoints).some((endpoint) => !endpoint)) {
    throw new DiscoveryError(
      'The authorization server’s metadata lacks an endpoint this client needs.',
    );
  }
  const issParameterSupported = as.body.authorization_response_iss_parameter_supported === true;
  return {
    issuer,
    ...(endpoints as Omit<AuthorizationServer, 'issuer' | 'issParameterSupported'>),
    issParameterSupported,
  };
}

// Client authentication at the token endpoint (RFC 6749 §2.3.1): who is calling?

import type { Request } from 'express';
import type { Client } from './clients.ts';
import { OAuthError, oneParam } from './errors.ts';
import { safeEqual } from './safe-equal.ts';

// RFC 6749 §5.2 / RFC 7235 §3.1: a 401 names the scheme the client should use.
const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="oauth-lab", charset="UTF-8"' };

export const invalidClient = (description: string) =>
  new OAuthError('invalid_client', description, 401, CHALLENGE);

/**
 * Accepts client_secret_basic (the Authorization header, which every AS MUST support) and
 * client_secret_post (client_id and client_secret in the form body). Using both at once is
 * an error (RFC 6749 §2.3).
 */
export function authenticateClient(req: Request, clients: Map<string, Client>): Client {
  const body = req.body as Record<string, unknown>;
  const header = req.get('authorization');
  const postedSecret = oneParam(body, 'client_secret');

  let clientId: string | undefined, secret: string | undefined;
  if (header !== undefined) {
    if (postedSecret !== undefined) {
      throw new OAuthError(
        'invalid_request',
        'Use one client authentication method: the Authorization header or client_secret in the body, not both.',
      );
    }
    ({ clientId, secret } = parseBasic(header));
    const postedId = oneParam(body, 'client_id');
    if (postedId !== undefined && postedId !== clientId) {
      throw new OAuthError(
        'invalid_request',
        'The client_id in the body differs from the one in the Authorization header.',
      );
    }
  } else if (postedSecret !== undefined) {
    clientId = oneParam(body, 'client_id');
    secret = postedSecret;
    if (!clientId) throw invalidClient('client_secret was sent without client_id.');
  } else {
    throw invalidClient(
      'No client authentication: send HTTP Basic credentials or client_id and client_secret.',
    );
  }

  const client = clients.get(clientId);
  // Compare even for unknown clients, so timing does not reveal which client ids exist.
  const matches = safeEqual(secret, client?.clientSecret ?? '');
  if (!client || !matches) throw invalidClient('Unknown client or wrong client secret.');
  return client;
}

/**
 * RFC 6749 §2.3.1: Basic base64(urlencode(client_id) ":" urlencode(client_secret)). The
 * form-encoding lets ids and secrets contain ":" and "%".
 */
function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (!match?.[1]) throw invalidClient('The Authorization header is not HTTP Basic credentials.');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('The Basic credentials have no ":" between id and secret.');
  try {
    const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    throw invalidClient('The Basic credentials are not correctly URL-encoded.');
  }
}

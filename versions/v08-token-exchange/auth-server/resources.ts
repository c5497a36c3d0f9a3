// The protected resources this AS issues tokens for (RFC 8707): each API is registered ahead
// of time, like a client, under the URL it is known by. A token names the one it is for in
// its `aud` claim, so it is useless at any other (audience restriction, RFC 9700 §2.3).

import { OAuthError } from './errors.ts';

export interface Resource {
  /** The resource's identifier: its base URL, exactly as in its own metadata (RFC 9728 §3.3). */
  uri: string;
  name: string;
  /** The client id the resource server authenticates with to introspect tokens (RFC 7662). */
  introspector: string;
}

export function createResources(rsUrl: string): Map<string, Resource> {
  const resources: Resource[] = [
    { uri: rsUrl, name: 'Notes API', introspector: 'resource-server' },
  ];
  return new Map(resources.map((resource) => [resource.uri, resource]));
}

/**
 * The `resource` parameters of a request (RFC 8707 §2), which, unlike other parameters, may be
 * sent more than once. Each must be among `allowed`: at /authorize every registered resource,
 * at /token those granted, so a token request may narrow the audience, never widen it. None
 * sent: all of `allowed` (lab: the client need not name the one API there is).
 */
export function readResources(params: Record<string, unknown>, allowed: string[]): string[] {
  const sent = [params.resource ?? []].flat().filter((value) => value !== '');
  if (sent.length === 0) return allowed;
  if (sent.some((value) => typeof value !== 'string' || !allowed.includes(value))) {
    // RFC 8707 §2: invalid_target, for a resource that is unknown or not for this client.
    throw new OAuthError(
      'invalid_target',
      'The resource parameter names a resource this request may not have tokens for.',
    );
  }
  return [...new Set(sent as string[])];
}

// Scopes: what a client may do with a token, named so a user can decide (RFC 6749 §3.3).

import { OAuthError } from './errors.ts';

/** Every scope this server knows, with the words the consent page uses for it. */
export const SCOPES: Record<string, string> = {
  // OpenID Connect Core §3.1.2.1: `openid` makes the request an OpenID Connect one.
  openid: 'Know who you are: sign you in with your account here',
  profile: 'See your name and username',
  email: 'See your e-mail address',
  'notes:read': 'Read your notes',
  'notes:write': 'Add notes in your name',
};

// lab: a request without scope gets the least powerful one (RFC 6749 §3.3 lets the AS pick).
export const DEFAULT_SCOPES = ['profile'];

/** Parse a space-separated, case-sensitive scope parameter (RFC 6749 §3.3). */
export function parseScope(scope: string | undefined): string[] {
  if (scope === undefined) return DEFAULT_SCOPES;
  const scopes = [...new Set(scope.split(' ').filter((s) => s !== ''))];
  const unknown = scopes.filter((s) => !Object.hasOwn(SCOPES, s));
  if (unknown.length > 0) {
    throw new OAuthError(
      'invalid_scope',
      'The scope parameter names a scope this server does not know.',
    );
  }
  return scopes.length > 0 ? scopes : DEFAULT_SCOPES;
}

/** Where a user's consent for a client is remembered. */
export const consentKey = (username: string, clientId: string) => `${username} → ${clientId}`;

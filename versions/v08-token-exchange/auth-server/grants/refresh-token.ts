// The refresh_token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2): every refresh token
// works once and comes back replaced. If a used one shows up again, two parties hold it, and
// the AS cannot tell which is the thief: the whole family is revoked.

import type { Client } from '../clients.ts';
import { OAuthError, oneParam } from '../errors.ts';
import { readResources } from '../resources.ts';
import { parseScope } from '../scopes.ts';
import type { Deps } from '../token.ts';
import { issueTokens, MAX_REFRESHES, revokeFamily, type TokenResponse } from '../tokens.ts';

export function refreshToken(
  body: Record<string, unknown>,
  client: Client,
  deps: Deps,
): Promise<TokenResponse> {
  const { refreshTokens } = deps;
  const token = oneParam(body, 'refresh_token');
  if (!token) throw new OAuthError('invalid_request', 'The refresh_token parameter is missing.');
  const requested = oneParam(body, 'scope');

  const stored = refreshTokens.get(token);
  // How long this login has left: every refresh token of the family ends with the first one.
  const familyLeftMs = refreshTokens.expiresIn(token);
  if (!stored || familyLeftMs === undefined) {
    throw new OAuthError('invalid_grant', 'The refresh token is unknown, expired or revoked.');
  }
  if (stored.clientId !== client.clientId) {
    throw new OAuthError('invalid_grant', 'The refresh token was issued to another client.');
  }
  if (stored.rotatedAt) {
    revokeFamily(deps, stored.code);
    throw new OAuthError(
      'invalid_grant',
      'The refresh token was already used: it may be stolen, so every token of this grant is now revoked.',
    );
  }
  // Fail closed: past this many refreshes the login ends. Forgetting older rotated tokens to
  // make room instead would let a thief's long chain of refreshes erase the evidence of reuse.
  if (stored.generation >= MAX_REFRESHES) {
    revokeFamily(deps, stored.code);
    throw new OAuthError(
      'invalid_grant',
      `This login was refreshed ${MAX_REFRESHES} times, the most one login may be: log in again.`,
    );
  }

  // RFC 6749 §6: a narrower scope is fine, a wider one is not; none means the original.
  const granted = stored.scope.split(' ');
  const scopes = requested?.trim() ? parseScope(requested) : granted;
  const wider = scopes.filter((scope) => !granted.includes(scope));
  if (wider.length > 0) {
    throw new OAuthError('invalid_scope', 'The scope asks for more than was granted.');
  }
  // RFC 8707 §2.2: the same for resources: fewer is fine, others are invalid_target.
  const resources = readResources(body, stored.resources);

  // The new access token gets the narrow scope; the new refresh token keeps the original, and
  // the family's end: refreshing never makes a login last longer. Issued before the old token
  // is marked used: if a full store refuses them (503), the client may simply try again.
  const owner = { clientId: client.clientId, username: stored.username, code: stored.code };
  const tokens = issueTokens(deps, owner, scopes.join(' '), resources, {
    scope: stored.scope,
    resources: stored.resources,
    generation: stored.generation + 1,
    ttlMs: familyLeftMs,
  });
  // From the checks above to this mark, nothing waits: of two refreshes with one token at
  // once, exactly one gets here, and the other is reuse.
  refreshTokens.set(token, { ...stored, rotatedAt: new Date().toISOString() }, familyLeftMs);
  return tokens;
}

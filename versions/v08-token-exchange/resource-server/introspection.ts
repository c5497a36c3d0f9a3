// Validation by introspection (RFC 7662): for every request, the resource server asks the AS
// whether the token is active. Slower, and it fails when the AS is down; but a revoked token
// is refused at once.

import type { TrustedAs } from './authorization-server.ts';
import { actorsOf, type ValidToken } from './bearer.ts';
import { OAuthError } from './errors.ts';

interface Deps {
  as: TrustedAs;
  audience: string;
  /** This resource server's own credentials at the AS (RFC 7662 §2.1). */
  clientId: string;
  clientSecret: string;
}

export function introspectionValidator({ as, audience, clientId, clientSecret }: Deps) {
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
  ).toString('base64')}`;

  const validate = async (token: string): Promise<ValidToken> => {
    const { introspection_endpoint: endpoint } = await as.metadata();
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization, accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) {
      // The AS did answer, but not about the token (wrong credentials here, say): not a 401 for
      // the caller, whose token may be fine.
      const description = `The token could not be checked: the authorization server's introspection endpoint answered ${response.status}.`;
      throw new OAuthError('temporarily_unavailable', description, 503);
    }
    const answer = (await response.json()) as Record<string, unknown>;
    // RFC 7662 §2.2: `active` is all there is to an inactive token: unknown, expired, revoked.
    if (answer.active !== true) {
      throw new OAuthError(
        'invalid_token',
        'The authorization server says this token is not active: unknown, expired or revoked.',
        401,
      );
    }
    const aud = [answer.aud].flat();
    if (answer.iss !== as.issuer || !aud.includes(audience)) {
      throw new OAuthError('invalid_token', 'The token is not meant for this API.', 401);
    }
    return {
      sub: String(answer.sub),
      clientId: String(answer.client_id),
      scopes: typeof answer.scope === 'string' ? answer.scope.split(' ') : [],
      jti: String(answer.jti),
      actors: actorsOf(answer.act),
      ...(typeof answer.task_id === 'string' ? { taskId: answer.task_id } : {}),
    };
  };
  return { validate };
}

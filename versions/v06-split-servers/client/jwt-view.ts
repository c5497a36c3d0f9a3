// The access token, decoded for the page: its header and claims, each with what it means.
// Only to show; the client decides nothing from it. RFC 9068 §6: a token is for the resource
// server, and a client must not rely on what is inside, which may change or be encrypted.

import { decodeJwt, decodeProtectedHeader } from 'jose';

export interface Field {
  name: string;
  value: string;
  meaning: string;
}

const MEANINGS: Record<string, string> = {
  alg: 'The signature algorithm: RS256, an RSA signature over SHA-256 (RFC 7518 §3.3).',
  typ: 'at+jwt: this JWT is an access token (RFC 9068 §2.1), not an id_token or anything else.',
  kid: 'Which of the authorization server’s keys signed it: look it up in its JWKS.',
  iss: 'The issuer: the authorization server that signed it.',
  sub: 'The subject: the user the token acts for.',
  aud: 'The audience: the API it is for (the resource the client asked for, RFC 8707).',
  client_id: 'The client it was issued to.',
  scope: 'What the bearer may do.',
  jti: 'A unique id: the authorization server finds the token by it to revoke it.',
  iat: 'Issued at: seconds since 1970.',
  exp: 'Expires at: seconds since 1970. No API accepts it after that.',
};

const shown = (name: string, value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return name === 'iat' || name === 'exp'
    ? `${text}  (${new Date(Number(value) * 1000).toISOString()})`
    : text;
};

/** The header and claims of a JWT, or undefined when it is not one. */
export function describeJwt(token: string): { header: Field[]; claims: Field[] } | undefined {
  try {
    const fields = (object: Record<string, unknown>) =>
      Object.entries(object).map(([name, value]) => ({
        name,
        value: shown(name, value),
        meaning: MEANINGS[name] ?? '',
      }));
    return { header: fields(decodeProtectedHeader(token)), claims: fields(decodeJwt(token)) };
  } catch {
    return undefined;
  }
}

// The access token, decoded for the page: its header and claims, each with what it means.
// Only to show; the client decides nothing from it. RFC 9068 §6: a token is for the resource
// server, and a client must not rely on what is inside, which may change or be encrypted.
// The id_token is the other way round: it is for the client, which checks it (id-token.ts).

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
  aud: 'The audience: the API it is for (RFC 8707), and with openid the AS’s /userinfo too.',
  client_id: 'The client it was issued to.',
  scope: 'What the bearer may do.',
  jti: 'A unique id: the authorization server finds the token by it to revoke it.',
  iat: 'Issued at: seconds since 1970.',
  exp: 'Expires at: seconds since 1970. No API accepts it after that.',
};

// What the same names mean in an id_token (OpenID Connect Core §2), and the names only it has.
const ID_TOKEN_MEANINGS: Record<string, string> = {
  ...MEANINGS,
  typ: 'JWT: a plain JWT, not at+jwt, so no API mistakes this id_token for an access token.',
  sub: 'The subject: who logged in, as this authorization server names them for good.',
  aud: 'The audience: this client. An id_token is for the client, not for an API.',
  exp: 'Expires at: the client must not accept it after that.',
  auth_time: 'When the user actually typed their password: max_age is checked against it.',
  nonce: 'The random value this browser’s login sent: the client checks it is the same.',
  at_hash: 'Half a SHA-256 of the access token: binds the access token to this id_token.',
};

const shown = (name: string, value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return name === 'iat' || name === 'exp' || name === 'auth_time'
    ? `${text}  (${new Date(Number(value) * 1000).toISOString()})`
    : text;
};

/** The header and claims of a JWT, or undefined when it is not one. */
export function describeJwt(
  token: string,
  kind: 'access' | 'id' = 'access',
): { kind: 'access' | 'id'; header: Field[]; claims: Field[] } | undefined {
  const meanings = kind === 'id' ? ID_TOKEN_MEANINGS : MEANINGS;
  try {
    const fields = (object: Record<string, unknown>) =>
      Object.entries(object).map(([name, value]) => ({
        name,
        value: shown(name, value),
        meaning: meanings[name] ?? '',
      }));
    const [header, claims] = [decodeProtectedHeader(token), decodeJwt(token)];
    return { kind, header: fields(header), claims: fields(claims) };
  } catch {
    return undefined;
  }
}

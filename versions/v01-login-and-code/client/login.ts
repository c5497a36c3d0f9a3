// The client's side of the authorization code flow: /login sends the browser to the AS with
// an authorization request, /callback receives the answer.

import { Router } from 'express';
import { queryOf, recordHop, startTranscript, transcriptOf } from '../../../shared/transcript.ts';

interface Deps {
  /** This client's own URL and the AS's, e.g. http://localhost:9000 and :9001. */
  baseUrl: string;
  asUrl: string;
  clientId: string;
  redirectUri: string;
}

export function loginRoutes({ baseUrl, asUrl, clientId, redirectUri }: Deps): Router {
  const router = Router();

  // Step 1: send the browser to the AS with an authorization request (RFC 6749 §4.1.1).
  router.get('/login', (req, res) => {
    // A new login starts from nothing: a new transcript.
    startTranscript(req);

    const authorize = new URL('/authorize', asUrl);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);

    recordHop(req, {
      channel: 'front',
      path: 'Client → Browser → Authorization Server',
      title: 'Authorization request: the client redirects the browser to the AS',
      line: `302 Location: ${authorize.href}`,
      params: queryOf(authorize),
    });
    res.redirect(authorize.href);
  });

  // Step 2: the AS sends the browser back here with a code (RFC 6749 §4.1.2).
  router.get('/callback', (req, res) => {
    const url = new URL(req.originalUrl, baseUrl);
    const params = queryOf(url);
    recordHop(req, {
      channel: 'front',
      path: 'Authorization Server → Browser → Client',
      title: 'Authorization response: the AS redirects the browser back to the client',
      line: `GET ${url.pathname}${url.search}`,
      params,
    });
    const one = (name: string) => (typeof params[name] === 'string' ? params[name] : undefined);
    res.render('callback', {
      code: one('code'),
      error: one('error'),
      errorDescription: one('error_description'),
      hops: transcriptOf(req),
      asDebug: `${asUrl}/debug/state`,
    });
  });

  return router;
}

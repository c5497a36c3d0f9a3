// GET /consent asks the user what the client may do; POST /consent records the decision.

import { Router, type Response } from 'express';
import type { Store } from '../../../shared/store.ts';
import { issueCode, redirectError, type CodeGrant } from './authorize.ts';
import type { Client } from './clients.ts';
import { csrfToken, validCsrf } from './csrf.ts';
import { OAuthError } from './errors.ts';
import { consentKey, SCOPES } from './scopes.ts';

interface Deps {
  clients: Map<string, Client>;
  codes: Store<CodeGrant>;
  consents: Store<string[]>;
}

export function consentRoutes({ clients, codes, consents }: Deps): Router {
  const router = Router();

  router.get('/consent', (req, res) => {
    const pending = req.session.pendingConsent;
    if (!pending || !req.session.user) return nothingPending(res);
    res.render('consent', {
      title: 'Allow access?',
      // Not `client`: ejs reads that data key as a compile option.
      requester: clients.get(pending.clientId),
      scopes: pending.scopes.map((scope) => ({ scope, description: SCOPES[scope] })),
      user: req.session.user,
      consentId: pending.id,
      csrfToken: csrfToken(req),
    });
  });

  router.post('/consent', (req, res) => {
    const pending = req.session.pendingConsent;
    if (!pending || !req.session.user) return nothingPending(res);
    if (!validCsrf(req)) {
      res.status(403).render('error', {
        title: 'Form refused',
        error: 'invalid_csrf_token',
        description:
          'This consent form did not come from a page of this server, so it was ignored.',
        explain: 'Go back to the client and start again.',
      });
      return;
    }
    const body = req.body as Record<string, unknown>;
    if (body.consent_id !== pending.id) {
      res.status(400).render('error', {
        title: 'Form refused',
        error: 'invalid_request',
        description: 'This consent page belongs to an earlier authorization request.',
        explain:
          'Another request replaced it in this session. Go back to the client and start again.',
      });
      return;
    }
    const decision = body.decision;
    if (decision !== 'approve' && decision !== 'deny') {
      res.status(400).render('error', {
        title: 'Form refused',
        error: 'invalid_request',
        description: 'Choose Allow or Deny.',
      });
      return;
    }
    // The decision is used once, whatever it is.
    delete req.session.pendingConsent;

    // Only what was asked for and ticked: a user may grant less than the client wanted.
    const ticked = [body.scope].flat().filter((scope) => typeof scope === 'string');
    const granted = pending.scopes.filter((scope) => ticked.includes(scope));
    if (decision === 'deny' || granted.length === 0) {
      // RFC 6749 §4.1.2.1: access_denied, back to the client.
      const err = new OAuthError('access_denied', 'The user denied the request.');
      return redirectError(res, pending.redirectUri, err, pending.state);
    }

    const key = consentKey(req.session.user.username, pending.clientId);
    consents.set(key, [...new Set([...(consents.get(key) ?? []), ...granted])]);
    issueCode(req, res, codes, { ...pending, scopes: granted });
  });

  return router;
}

function nothingPending(res: Response) {
  res.status(400).render('error', {
    title: 'Nothing to approve',
    error: 'invalid_request',
    description: 'No authorization request is waiting for your consent in this session.',
    explain: 'Consent is asked for during a flow. Start again from the client.',
  });
}

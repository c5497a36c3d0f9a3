// GET /consent asks the user what the client may do; POST /consent records the decision.

import { Router, type Response } from 'express';
import { csrfToken, validCsrf } from '../../../shared/csrf.ts';
import type { Store } from '../../../shared/store.ts';
import { issueCode, type CodeGrant, type PendingConsent } from './authorize.ts';
import type { Client } from './clients.ts';
import { OAuthError, redirectError, showError } from './errors.ts';
import { consentKey, SCOPES } from './scopes.ts';

interface Deps {
  issuer: string;
  clients: Map<string, Client>;
  codes: Store<CodeGrant>;
  consents: Store<string[]>;
  /**
   * The request each session is being asked about. On the server, not in the session: the
   * decision is single-use, and a session is written back whole by every request, so two
   * submissions at once would each find it in their own copy.
   */
  pendingConsents: Store<PendingConsent>;
}

const FORM_REFUSED = 'Form refused';

export function consentRoutes({ issuer, clients, codes, consents, pendingConsents }: Deps): Router {
  const router = Router();

  router.get('/consent', (req, res) => {
    const pending = pendingConsents.get(req.sessionID);
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
    const pending = pendingConsents.get(req.sessionID);
    if (!pending || !req.session.user) return nothingPending(res);
    if (!validCsrf(req)) {
      // lab: not an RFC error code; this page is the AS's own.
      const description =
        'This consent form did not come from a page of this server, so it was ignored.';
      return showError(res, new OAuthError('invalid_csrf_token', description, 403), {
        title: FORM_REFUSED,
        explain: 'Go back to the client and start again.',
      });
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.consent_id !== pending.id) {
      const description = 'This consent page belongs to an earlier authorization request.';
      return showError(res, new OAuthError('invalid_request', description), {
        title: FORM_REFUSED,
        explain:
          'Another request replaced it in this session. Go back to the client and start again.',
      });
    }
    const decision = body.decision;
    if (decision !== 'approve' && decision !== 'deny') {
      return showError(res, new OAuthError('invalid_request', 'Choose Allow or Deny.'), {
        title: FORM_REFUSED,
      });
    }
    // The decision is used once, whatever it is. Nothing above waits, so of two submissions at
    // once the second finds nothing pending.
    pendingConsents.delete(req.sessionID);

    // Only what was asked for and ticked: a user may grant less than the client wanted. lab:
    // `openid` is not ticked, it is the login itself (OpenID Connect Core §3.1.2.1).
    const ticked = [body.scope].flat().filter((scope) => typeof scope === 'string');
    const granted = pending.scopes.filter((scope) => ticked.includes(scope) || scope === 'openid');
    if (decision === 'deny' || granted.length === 0) {
      // RFC 6749 §4.1.2.1: access_denied, back to the client.
      const err = new OAuthError('access_denied', 'The user denied the request.');
      return redirectError(res, pending.redirectUri, err, pending.state, issuer);
    }

    const key = consentKey(req.session.user.username, pending.clientId);
    consents.set(key, [...new Set([...(consents.get(key) ?? []), ...granted])]);
    issueCode(req, res, codes, { ...pending, scopes: granted }, issuer);
  });

  return router;
}

function nothingPending(res: Response) {
  const description = 'No authorization request is waiting for your consent in this session.';
  showError(res, new OAuthError('invalid_request', description), {
    title: 'Nothing to approve',
    explain: 'Consent is asked for during a flow. Start again from the client.',
  });
}

// The agent and its sub-agent: two clients registered at the AS, each with its own secret and
// its own token for itself (client_credentials, see exchange.ts).

export interface Identity {
  clientId: string;
  clientSecret: string;
  name: string;
  /** Its own token, while it lives: the actor token of its exchanges. */
  own?: { token: string; jti: string; expiresAt: number };
}

/** One call the agent made, for its home page. */
export interface Call {
  at: string;
  /** Which of the two made it. */
  by: string;
  request: string;
  status: number;
  outcome: string;
}

export function createIdentities(): { agent: Identity; subagent: Identity } {
  return {
    agent: { clientId: 'demo-agent', clientSecret: 'agent-secret', name: 'Notes Assistant' },
    subagent: { clientId: 'demo-subagent', clientSecret: 'subagent-secret', name: 'Notes Reader' },
  };
}

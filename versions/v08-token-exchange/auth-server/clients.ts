// The client registry: which apps may ask for authorization, and where their users may be
// sent back to. Registered ahead of time, the way a developer registers an app with GitHub.

export interface Client {
  clientId: string;
  /** Proves the client's identity at the token endpoint (RFC 6749 §2.3.1). */
  clientSecret: string;
  name: string;
  /** Exact URIs this client may receive codes at (RFC 6749 §3.1.2.2). */
  redirectUris: string[];
  /** Grants this client may use at the token endpoint (RFC 6749 §5.2 unauthorized_client). */
  grantTypes: string[];
  /** An agent's registration profile: the most it may ever hold, whoever it acts for. */
  profile?: AgentProfile;
}

export interface AgentProfile {
  /** Scopes a token exchanged by this agent may carry: never more, whatever the user has. */
  scopes: string[];
  /** Resources (RFC 8707) such a token may be for. */
  audiences: string[];
}

// RFC 8693 §2.1: the grant type of a token exchange.
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

export function createClients(clientUrl: string, rsUrl: string): Map<string, Client> {
  const clients: Client[] = [
    {
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      name: 'Demo Client',
      redirectUris: [`${clientUrl}/callback`],
      grantTypes: ['authorization_code', 'refresh_token'],
    },
    // A second registered app, so you can see that codes are bound to the client they were
    // issued to: its credentials cannot redeem demo-client's codes.
    {
      clientId: 'other-client',
      // A ":" and a "%" in the secret show why Basic credentials are URL-encoded first.
      clientSecret: 'other:secret%',
      name: 'Other Client',
      redirectUris: ['http://localhost:9999/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
    },
    // A machine client that acts for nobody but itself, registered for client_credentials
    // only: it may not redeem codes (unauthorized_client, RFC 6749 §5.2).
    {
      clientId: 'batch-job',
      clientSecret: 'batch-secret',
      name: 'Nightly Batch Job',
      redirectUris: [],
      grantTypes: ['client_credentials'],
    },
    // The resource server has credentials here too, to ask about tokens at /introspect
    // (RFC 7662 §2.1). It gets no tokens of its own: no grant at all.
    {
      clientId: 'resource-server',
      clientSecret: 'resource-secret',
      name: 'Notes API (resource server)',
      redirectUris: [],
      grantTypes: [],
    },
    // An AI agent, a client of its own: it gets a token for itself (client_credentials) and
    // trades a user's token for a narrower one to act for that user (token exchange). It may
    // never redeem codes or refresh tokens: it has no users of its own.
    {
      clientId: 'demo-agent',
      clientSecret: 'agent-secret',
      name: 'Notes Assistant (AI agent)',
      redirectUris: [],
      grantTypes: ['client_credentials', TOKEN_EXCHANGE],
      profile: { scopes: ['notes:read', 'notes:write'], audiences: [rsUrl] },
    },
    // A helper the agent hands sub-tasks to: it may only read, whatever its parent may do.
    {
      clientId: 'demo-subagent',
      clientSecret: 'subagent-secret',
      name: 'Notes Reader (sub-agent)',
      redirectUris: [],
      grantTypes: ['client_credentials', TOKEN_EXCHANGE],
      profile: { scopes: ['notes:read'], audiences: [rsUrl] },
    },
  ];
  return new Map(clients.map((client) => [client.clientId, client]));
}

// The client registry: which apps may ask for authorization, and where their users may be
// sent back to. Registered ahead of time, the way a developer registers an app with GitHub.

export interface Client {
  clientId: string;
  name: string;
  /** Exact URIs this client may receive codes at (RFC 6749 §3.1.2.2). */
  redirectUris: string[];
}

export function createClients(clientUrl: string): Map<string, Client> {
  const clients: Client[] = [
    {
      clientId: 'demo-client',
      name: 'Demo Client',
      redirectUris: [`${clientUrl}/callback`],
    },
  ];
  return new Map(clients.map((client) => [client.clientId, client]));
}

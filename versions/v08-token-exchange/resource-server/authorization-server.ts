// Which authorization server this resource server trusts, and where that AS keeps its keys
// and its introspection endpoint: read from the AS's own metadata (RFC 8414), fetched once.

export interface AsMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint: string;
}

/** The AS's metadata, fetched on first use; the `issuer` must be the URL we trust (§3.3). */
export function trustedAs(issuer: string) {
  let metadata: Promise<AsMetadata> | undefined;
  return {
    issuer,
    metadata(): Promise<AsMetadata> {
      metadata ??= fetchMetadata(issuer).catch((err: unknown) => {
        metadata = undefined; // try again next time
        throw err;
      });
      return metadata;
    },
  };
}

export type TrustedAs = ReturnType<typeof trustedAs>;

async function fetchMetadata(issuer: string): Promise<AsMetadata> {
  // RFC 8414 §3.1: the well-known path goes between the issuer's host and its path, if any.
  const { origin, pathname } = new URL(issuer);
  const path = pathname === '/' ? '' : pathname;
  const response = await fetch(`${origin}/.well-known/oauth-authorization-server${path}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const metadata = (await response.json()) as AsMetadata;
  // RFC 8414 §3.3: metadata that names another issuer must not be used.
  if (metadata.issuer !== issuer) {
    throw new Error(`The metadata at ${issuer} names another issuer: ${metadata.issuer}.`);
  }
  return metadata;
}

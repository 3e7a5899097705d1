import { Kafka, logLevel } from 'kafkajs';
import type { DevClient } from '../../src/dev-issuer/issuer.js';

/** Where a client connects and how it gets tokens. */
export interface ClientSetup {
  bootstrap: string;
  tokenUrl: string;
  clients: Record<string, DevClient>;
}

/**
 * A kafkajs client that authenticates as `clientId` with OAUTHBEARER, fetching its token from
 * the issuer's token endpoint (client credentials), as a real service would. A few quick retries
 * ride out a fresh broker's group coordinator appearing on first use; denials are not retriable
 * in kafkajs, so they still surface at once.
 */
export function kafkaFor(setup: ClientSetup, clientId: string): Kafka {
  const client = setup.clients[clientId];
  return new Kafka({
    clientId,
    brokers: [setup.bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 300 },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await fetchToken(setup.tokenUrl, clientId, client.secret) }) },
  });
}

async function fetchToken(tokenUrl: string, clientId: string, secret: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await response.json()) as { access_token?: string; error?: string };
  if (!response.ok || !body.access_token) throw new Error(`token request for ${clientId} failed: HTTP ${response.status} ${body.error ?? ''}`);
  return body.access_token;
}

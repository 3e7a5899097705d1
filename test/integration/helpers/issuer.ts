import { type DevIssuer, startDevIssuer } from '../../../src/dev-issuer/issuer.js';
import { createLogger } from '../../../src/observe/logger.js';
import type { OAuthClientCredentials } from '../../support/interop-clients.js';
import type { TestProxyOptions } from './proxy.js';

/** Clients of the test issuer's token endpoint: id -> secret, subject and roles. */
export const TEST_CLIENTS = {
  'svc-writer': { secret: 'writer-secret', subject: 'svc-writer', roles: ['orders-writer'] },
  'svc-reader': { secret: 'reader-secret', subject: 'svc-reader', roles: ['orders-reader'] },
};

/** A test client's OAuth2 client credentials at `issuer`'s token endpoint, as the interop clients take them. */
export function testClientCredentials(issuer: DevIssuer, clientId: keyof typeof TEST_CLIENTS): OAuthClientCredentials {
  return { tokenUrl: issuer.tokenUrl, clientId, clientSecret: TEST_CLIENTS[clientId].secret };
}

/** A development issuer on a free loopback port, for OAUTHBEARER tests. */
export function startTestIssuer(opts: { tokenLifetimeSeconds?: number; alg?: 'RS256' | 'ES256' } = {}): Promise<DevIssuer> {
  return startDevIssuer({ port: 0, clients: TEST_CLIENTS, log: createLogger('silent'), ...opts });
}

/** Proxy options for a listener that requires OAUTHBEARER tokens from `issuer`. */
export function oauthListener(issuer: DevIssuer, extra: TestProxyOptions = {}): TestProxyOptions {
  return { ...extra, authentication: ['OAUTHBEARER'], oauthbearer: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, ...extra.oauthbearer } };
}

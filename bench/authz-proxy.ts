import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDevIssuer } from '../src/dev-issuer/issuer.js';
import { createLogger } from '../src/observe/logger.js';
import { type BenchPolicy, benchPolicy } from './bench-policy.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';

export interface AuthzProxy {
  proxy: ProxyProcess;
  /** What the policy holds, for the report. */
  policy: Omit<BenchPolicy, 'yaml'>;
  /** Java client settings: OAUTHBEARER with tokens from the issuer's token endpoint. */
  clientProperties: Record<string, string>;
  /** A token for the bench principal, for clients of the bench's own (the latency probe). */
  token(): Promise<string>;
  stop(): Promise<void>;
}

const PRINCIPAL = 'svc-bench';

/**
 * The proxy with an OAUTHBEARER listener in enforce mode, and the development token issuer its
 * clients log in at (in this process). Every topic the e2e bench creates and every consumer
 * group its tools use is named "e2e-...": the principal may write and read those, among
 * ~10,000 grants that never match. An idempotent producer needs nothing more (Write on a topic
 * lets it in).
 */
export async function startAuthzProxy(upstream: string, workDir: string, workers: number, recordTo?: string): Promise<AuthzProxy> {
  const { yaml, ...policy } = benchPolicy([
    { topics: ['e2e-*'], operations: ['write', 'read'] },
    { groups: ['e2e-*'], operations: ['read'] },
  ]);
  const policyFile = join(workDir, recordTo ? 'policy-record.yaml' : 'policy.yaml');
  await writeFile(policyFile, yaml);
  // Only ever in the client's properties file and the issuer's memory, never on a command line.
  const secret = randomBytes(24).toString('hex');
  const issuer = await startDevIssuer({
    port: 0,
    clients: { [PRINCIPAL]: { secret, subject: PRINCIPAL, roles: policy.principalRoles } },
    log: createLogger('silent'),
  });
  try {
    const proxy = await startProxyProcess(upstream, workDir, {
      name: recordTo ? 'proxy-authz-record' : 'proxy-authz',
      workers,
      listener: { authentication: ['OAUTHBEARER'], mode: 'enforce', ...(recordTo ? { recordAccess: true } : {}) },
      sections: {
        oauthbearer: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'] },
        authorization: { policyFile },
        ...(recordTo ? { accessRecording: { directory: recordTo } } : {}),
      },
    });
    return {
      proxy,
      policy,
      // As test/support/interop-clients.ts javaOAuthArgs: Kafka's own OIDC client-credentials login.
      clientProperties: {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'OAUTHBEARER',
        'sasl.login.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
        'sasl.oauthbearer.token.endpoint.url': issuer.tokenUrl,
        'sasl.jaas.config': `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="${PRINCIPAL}" clientSecret="${secret}";`,
      },
      token: () => issuer.mint({ subject: PRINCIPAL, roles: policy.principalRoles }),
      async stop() {
        await proxy.stop();
        await issuer.stop();
      },
    };
  } catch (e) {
    await issuer.stop();
    throw e;
  }
}

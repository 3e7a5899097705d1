import { randomUUID } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { createLogger } from '../../src/observe/logger.js';
import {
  type ConsumeResult,
  javaOAuthArgs,
  type ProduceForResult,
  type ProduceResult,
  pythonOAuthArgs,
  rejection,
  runGoClient,
  runJavaClient,
  runPythonClient,
} from '../support/interop-clients.js';
import { TEST_CLIENTS, oauthListener, startTestIssuer, testClientCredentials } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

const GO_SASL = ['--sasl', 'oauthbearer'];

async function freshTopic(prefix: string): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTopic({ topic, numPartitions: 3, replicationFactor: 3 });
  return topic;
}

function reauthentications(tp: TestProxy, clientId: string, principal: string): number {
  return tp.logs.filter((l) => l.msg === 'authenticated' && l.reauthentication === true && l.clientId === clientId && l.principal === principal).length;
}

function expiredSessions(tp: TestProxy, clientId: string): number {
  return tp.logs.filter((l) => l.msg === 'connection closed' && l.reason === 'session expired' && l.clientId === clientId).length;
}

describe('OAUTHBEARER with the Java, Python and Go clients', () => {
  let issuer: DevIssuer;
  let untrusted: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    // Same issuer name and token endpoint shape, its own keys: the proxy must refuse its tokens.
    untrusted = await startDevIssuer({ port: 0, clients: TEST_CLIENTS, issuer: issuer.issuer, log: createLogger('silent') });
    tp = await startTestProxy(oauthListener(issuer));
  });

  afterAll(async () => {
    await tp?.stop();
    await untrusted?.stop();
    await issuer?.stop();
  });

  it('Java with OIDC client credentials produces and consumes with a group', async () => {
    const topic = await freshTopic('oauth-java');
    const produced = await runJavaClient<ProduceResult>(['produce', tp.bootstrap, topic, '50', ...javaOAuthArgs(testClientCredentials(issuer, 'svc-writer'))]);
    const consumed = await runJavaClient<ConsumeResult>(['consume', tp.bootstrap, topic, `g-${topic}`, '50', ...javaOAuthArgs(testClientCredentials(issuer, 'svc-reader'))]);
    expect(produced).toEqual({ produced: 50, partitions: [0, 1, 2] });
    expect(consumed).toEqual({ consumed: 50, partitions: [0, 1, 2] });
  });

  it('Python (librdkafka, sasl.oauthbearer.method=oidc) produces and consumes with a group', async () => {
    const topic = await freshTopic('oauth-python');
    const produced = await runPythonClient<ProduceResult>(['produce', tp.bootstrap, topic, '50', ...pythonOAuthArgs(testClientCredentials(issuer, 'svc-writer'))]);
    const consumed = await runPythonClient<ConsumeResult>(['consume', tp.bootstrap, topic, `g-${topic}`, '50', ...pythonOAuthArgs(testClientCredentials(issuer, 'svc-reader'))]);
    expect(produced).toEqual({ produced: 50, partitions: [0, 1, 2] });
    expect(consumed).toEqual({ consumed: 50, partitions: [0, 1, 2] });
  });

  it('Go (franz-go sasl/oauth) produces and consumes with a group', async () => {
    const topic = await freshTopic('oauth-go');
    const writer = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-writer', roles: ['orders-writer'] }) };
    const reader = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-reader', roles: ['orders-reader'] }) };
    const produced = await runGoClient<ProduceResult>(['produce', tp.bootstrap, topic, '50', ...GO_SASL], { env: writer });
    const consumed = await runGoClient<ConsumeResult>(['consume', tp.bootstrap, topic, `g-${topic}`, '50', ...GO_SASL], { env: reader });
    expect(produced).toEqual({ produced: 50, partitions: [0, 1, 2] });
    expect(consumed).toEqual({ consumed: 50, partitions: [0, 1, 2] });
    const principals = tp.logs.filter((l) => l.msg === 'authenticated' && l.clientId === 'interop-go').map((l) => l.principal);
    expect(new Set(principals)).toEqual(new Set(['svc-writer', 'svc-reader']));
  });

  it('refuses untrusted and expired tokens: each client exits at once with the reason', async () => {
    const topic = await freshTopic('oauth-refused');
    // A hang would run into the clients' own 60 s waits; this limit turns it into a failure.
    const opts = { timeoutMs: 30_000 };
    const expired = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-writer', expiresInSeconds: -120 }) };
    const [java, python, go] = await Promise.all([
      rejection(runJavaClient(['produce', tp.bootstrap, topic, '5', ...javaOAuthArgs(testClientCredentials(untrusted, 'svc-writer'))], opts)),
      rejection(runPythonClient(['produce', tp.bootstrap, topic, '5', ...pythonOAuthArgs(testClientCredentials(untrusted, 'svc-writer'))], opts)),
      rejection(runGoClient(['produce', tp.bootstrap, topic, '5', ...GO_SASL], { ...opts, env: expired })),
    ]);
    expect(java.type).toBe('org.apache.kafka.common.errors.SaslAuthenticationException');
    expect(java.error).toMatch(/^Authentication failed: no key with kid ".+" in the JWKS$/);
    expect(python.error).toMatch(/_AUTHENTICATION.*SASL authentication error: Authentication failed: no key with kid ".+" in the JWKS/);
    expect(go.type).toBe('kerr.SASL_AUTHENTICATION_FAILED');
    expect(go.error).toMatch(/SASL_AUTHENTICATION_FAILED.*Authentication failed: token expired at /);
    // Start-up included: the JVM compiles the client from source.
    for (const r of [java, python, go]) expect(r.ms).toBeLessThan(20_000);
    const refused = tp.logs.filter((l) => l.msg === 'authentication failed');
    for (const clientId of ['interop-java', 'interop-python']) {
      expect(refused.find((l) => l.clientId === clientId)?.reason).toMatch(/no key with kid/);
    }
    expect(refused.find((l) => l.clientId === 'interop-go')?.reason).toMatch(/token expired at/);
  });
});

describe('OAUTHBEARER with 20 s tokens: clients re-authenticate on their live connections', () => {
  const SECONDS = 60;
  const RATE = 20;
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer({ tokenLifetimeSeconds: 20 });
    // Sessions end with the tokens, not with the proxy's own limit.
    tp = await startTestProxy(oauthListener(issuer, { oauthbearer: { maxSessionSeconds: 3600 } }));
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it(`Java and librdkafka each produce for ${SECONDS} s while a consumer of the same kind reads along`, { timeout: 150_000 }, async () => {
    const [javaTopic, pythonTopic] = await Promise.all([freshTopic('reauth-java'), freshTopic('reauth-python')]);
    const total = String(SECONDS * RATE);
    const opts = { timeoutMs: (SECONDS + 50) * 1000 };
    const consumeArgs = (topic: string) => ['consume', tp.bootstrap, topic, `g-${topic}`, total, '--timeout-ms', String((SECONDS + 40) * 1000)];
    const produceArgs = (topic: string) => ['produce-for', tp.bootstrap, topic, String(SECONDS), '--rate', String(RATE)];
    const [javaProduced, javaConsumed, pythonProduced, pythonConsumed] = await Promise.all([
      runJavaClient<ProduceForResult>([...produceArgs(javaTopic), ...javaOAuthArgs(testClientCredentials(issuer, 'svc-writer'))], opts),
      runJavaClient<ConsumeResult>([...consumeArgs(javaTopic), ...javaOAuthArgs(testClientCredentials(issuer, 'svc-reader'))], opts),
      runPythonClient<ProduceForResult>([...produceArgs(pythonTopic), ...pythonOAuthArgs(testClientCredentials(issuer, 'svc-writer'))], opts),
      runPythonClient<ConsumeResult>([...consumeArgs(pythonTopic), ...pythonOAuthArgs(testClientCredentials(issuer, 'svc-reader'))], opts),
    ]);

    for (const [produced, consumed] of [
      [javaProduced, javaConsumed],
      [pythonProduced, pythonConsumed],
    ] as const) {
      expect(produced).toEqual({ produced: SECONDS * RATE, errors: 0 });
      expect(consumed.consumed).toBe(SECONDS * RATE);
    }
    for (const clientId of ['interop-java', 'interop-python']) {
      // Each connection outlives three token lifetimes, so each principal re-authenticates repeatedly.
      for (const principal of ['svc-writer', 'svc-reader']) expect(reauthentications(tp, clientId, principal), `${clientId} ${principal}`).toBeGreaterThanOrEqual(2);
      expect(expiredSessions(tp, clientId), clientId).toBe(0);
    }
  });

  it('Go re-authenticates with the token it re-reads from a file refreshed every 10 s', { timeout: 120_000 }, async () => {
    const seconds = 45;
    const topic = await freshTopic('reauth-go');
    const dir = await mkdtemp(join(tmpdir(), 'oauth-go-'));
    const tokenFile = join(dir, 'token');
    // Written whole and renamed into place, so the client never reads half a token.
    const writeToken = async () => {
      await writeFile(`${tokenFile}.next`, await issuer.mint({ subject: 'svc-writer', roles: ['orders-writer'] }));
      await rename(`${tokenFile}.next`, tokenFile);
    };
    await writeToken();
    let refreshFailure: unknown;
    const refresher = setInterval(() => void writeToken().catch((e: unknown) => (refreshFailure ??= e)), 10_000);
    try {
      const produced = await runGoClient<ProduceForResult>(['produce-for', tp.bootstrap, topic, String(seconds), '--rate', String(RATE), ...GO_SASL], {
        timeoutMs: (seconds + 45) * 1000,
        env: { KAFKA_OAUTH_TOKEN_FILE: tokenFile },
      });
      expect(produced).toEqual({ produced: seconds * RATE, errors: 0 });
    } finally {
      clearInterval(refresher);
      await rm(dir, { recursive: true, force: true });
    }
    expect(refreshFailure).toBeUndefined();
    expect(reauthentications(tp, 'interop-go', 'svc-writer')).toBeGreaterThanOrEqual(2);
    expect(expiredSessions(tp, 'interop-go')).toBe(0);

    const reader = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-reader', roles: ['orders-reader'] }) };
    const consumed = await runGoClient<ConsumeResult>(['consume', tp.bootstrap, topic, `g-${topic}`, String(seconds * RATE), ...GO_SASL], { env: reader });
    expect(consumed.consumed).toBe(seconds * RATE);
  });
});

import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickFreePorts } from '../../scripts/kafka/ports.js';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/observe/logger.js';
import { ProxyMetrics } from '../../src/observe/metrics.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { KafkaAuthProxy } from '../../src/proxy/proxy.js';
import { amzDate } from '../support/amz-date.js';
import { bytes, mskIamPayload } from '../support/aws-sign.js';
import { type TestKey, claimsFor, createTestKey, foreignKeyToken, signToken, unknownKidToken } from '../support/forged-tokens.js';
import { JwksServer } from '../support/jwks-server.js';
import { recordBatch } from '../support/record-batch.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { gs2 } from './helpers/raw-sasl.js';

const ISSUER = 'https://issuer.metrics.test';
const REGION = 'us-east-1';
const ACCESS_KEY = 'AKIAMETRICSTEST01';
const SECRET = 'metrics-test-secret-0001/abcdef';
const run = randomUUID().slice(0, 8);
const topicA = `ops-a-${run}`;
const topicB = `ops-b-${run}`;
const POLICY_V1 = 'roles:\n  writer:\n    - { topics: ["ops-a-*"], operations: [write] }\n';
const POLICY_V2 = 'roles:\n  writer:\n    - { topics: ["ops-a-*", "ops-b-*"], operations: [write] }\n';
const CREDENTIALS = `accessKeys:\n  ${ACCESS_KEY}:\n    secretAccessKey: ${SECRET}\n    principal: User:metrics\n`;

/** One sample's value from exposition text; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** SaslHandshake v1 + SaslAuthenticate v2 on a live connection; the SaslAuthenticate error code (0: authenticated). */
async function login(conn: KafkaConnection, mechanism: 'OAUTHBEARER' | 'AWS_MSK_IAM', authBytes: Buffer): Promise<number> {
  const hs = await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism });
  expect(hs.body.errorCode).toBe(0);
  return (await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes })).body.errorCode;
}

const produce = (conn: KafkaConnection, topics: string[]) =>
  conn.request<ProduceResponse>(API_KEYS.Produce, 9, {
    ...defaultProduceRequest(),
    acks: -1,
    timeoutMs: 5_000,
    topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records: recordBatch(['v']) }] })),
  });

describe('operations metrics after a scripted session (OAUTHBEARER and AWS_MSK_IAM, enforce)', () => {
  let jwks: JwksServer;
  let key1: TestKey;
  let key2: TestKey;
  let credentialsFile: string;
  let tp: TestProxy;
  const token = (key: TestKey, options: { audience?: string; expiresIn?: number } = {}) =>
    signToken(key, claimsFor({ issuer: ISSUER, audience: options.audience ?? 'kafka', subject: 'svc-writer', expiresIn: options.expiresIn, extra: { roles: ['writer'] } }));
  const text = () => tp.proxy.metrics.registry.metrics();
  const connect = () => KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);

  beforeAll(async () => {
    key1 = await createTestKey('RS256', 'key-1');
    key2 = await createTestKey('RS256', 'key-2');
    jwks = await JwksServer.start([key1.publicJwk]);
    credentialsFile = join(mkdtempSync(join(tmpdir(), 'ops-metrics-')), 'credentials.yaml');
    writeFileSync(credentialsFile, CREDENTIALS);
    tp = await startTestProxy({
      authentication: ['OAUTHBEARER', 'AWS_MSK_IAM'],
      // No early refresh for an unknown kid: every JWKS fetch in this test is one the test asks for.
      oauthbearer: { jwksUrl: jwks.url, issuer: ISSUER, jwksUnknownKidRefreshSeconds: 3600 },
      awsMskIam: { region: REGION, credentialsFile },
      policy: POLICY_V1,
      mode: 'enforce',
    });
  });

  afterAll(async () => {
    await tp?.stop();
    await jwks?.close();
  });

  it('counts logins, requests, decisions, reloads and closes as they happened', async () => {
    // C1: a good login, then allowed, denied and mixed requests, and a re-authentication.
    const c1 = await connect();
    expect(await login(c1, 'OAUTHBEARER', gs2(await token(key1)))).toBe(0);
    expect((await c1.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] })).body.brokers).toHaveLength(3);
    await produce(c1, [topicA]);
    expect((await produce(c1, [topicB])).body.responses[0].partitionResponses[0].errorCode).toBe(29);
    const mixed = (await produce(c1, [topicA, topicB])).body.responses;
    expect(mixed.find((t) => t.name === topicB)!.partitionResponses[0].errorCode).toBe(29);
    expect(await login(c1, 'OAUTHBEARER', gs2(await token(key1)))).toBe(0);
    expect(sample(await text(), 'kafka_proxy_upstream_connections{listener="test"}')).toBe(1);

    // C2-C6: refused logins, each closed by the proxy.
    for (const bad of [
      await token(key1, { expiresIn: -120 }),
      await foreignKeyToken(key1, claimsFor({ issuer: ISSUER, audience: 'kafka' })),
      await unknownKidToken(key1, claimsFor({ issuer: ISSUER, audience: 'kafka' })),
      await token(key1, { audience: 'billing' }),
    ]) {
      const conn = await connect();
      expect(await login(conn, 'OAUTHBEARER', gs2(bad))).toBe(58);
      conn.close();
    }
    const aws = await connect();
    const wrongSecret = mskIamPayload({ accessKeyId: ACCESS_KEY, secret: 'not-the-secret-000000000000', date: amzDate(), host: '127.0.0.1', region: REGION });
    expect(await login(aws, 'AWS_MSK_IAM', bytes(wrongSecret))).toBe(58);
    aws.close();

    // C7: a session whose token expires, used after it did.
    const c7 = await connect();
    expect(await login(c7, 'OAUTHBEARER', gs2(await token(key1, { expiresIn: 2 })))).toBe(0);
    await new Promise((r) => setTimeout(r, 2_500));
    await expect(c7.request(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] })).rejects.toThrow(/closed/);

    // Reload 1: a policy that allows B, and a JWKS with a second key.
    writeFileSync(tp.policyFile!, POLICY_V2);
    jwks.keys = [key1.publicJwk, key2.publicJwk];
    await tp.proxy.reload();
    await produce(c1, [topicB]);

    // C8: the new key logs in; its re-authentication with an expired token fails.
    const c8 = await connect();
    expect(await login(c8, 'OAUTHBEARER', gs2(await token(key2)))).toBe(0);
    expect(await login(c8, 'OAUTHBEARER', gs2(await token(key2, { expiresIn: -120 })))).toBe(58);
    c8.close();

    // Reload 2: every source broken; the old policy, keys and credentials stay.
    writeFileSync(tp.policyFile!, 'roles: [not, a, map]\n');
    writeFileSync(credentialsFile, 'accessKeys: [not, a, map]\n');
    jwks.failing = true;
    await tp.proxy.reload();
    const afterReloads = await text();
    jwks.failing = false;

    c1.close();
    const deadline = Date.now() + 10_000;
    while (sample(await text(), 'kafka_proxy_connections_closed_total{listener="test",reason="client-closed"}') === undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const m = await text();
    const at = (series: string) => sample(m, series);

    // Connections: eight accepted, each closed once, for its reason.
    expect(at('kafka_proxy_connections_accepted_total{listener="test"}')).toBe(8);
    expect(at('kafka_proxy_connections_closed_total{listener="test",reason="authentication-failed"}')).toBe(6);
    expect(at('kafka_proxy_connections_closed_total{listener="test",reason="session-expired"}')).toBe(1);
    expect(at('kafka_proxy_connections_closed_total{listener="test",reason="client-closed"}')).toBe(1);
    expect(at('kafka_proxy_sessions_expired_total{listener="test"}')).toBe(1);
    expect(at('kafka_proxy_upstream_connections{listener="test"}')).toBe(0);

    // Authentication.
    expect(at('kafka_proxy_authentication_attempts_total{listener="test",mechanism="OAUTHBEARER",outcome="success"}')).toBe(4);
    expect(at('kafka_proxy_authentication_attempts_total{listener="test",mechanism="OAUTHBEARER",outcome="failure"}')).toBe(5);
    expect(at('kafka_proxy_authentication_attempts_total{listener="test",mechanism="AWS_MSK_IAM",outcome="failure"}')).toBe(1);
    for (const [mechanism, reason, count] of [
      ['OAUTHBEARER', 'expired', 2],
      ['OAUTHBEARER', 'bad-signature', 1],
      ['OAUTHBEARER', 'unknown-key', 1],
      ['OAUTHBEARER', 'wrong-audience', 1],
      ['AWS_MSK_IAM', 'signature-mismatch', 1],
    ] as const) {
      expect(at(`kafka_proxy_authentication_failures_total{listener="test",mechanism="${mechanism}",reason="${reason}"}`), reason).toBe(count);
    }
    expect(at('kafka_proxy_reauthentications_total{listener="test",mechanism="OAUTHBEARER",outcome="success"}')).toBe(1);
    expect(at('kafka_proxy_reauthentications_total{listener="test",mechanism="OAUTHBEARER",outcome="failure"}')).toBe(1);
    expect(at('kafka_proxy_authentication_duration_seconds_count{listener="test",mechanism="OAUTHBEARER"}')).toBe(9);
    // A failure's answer waits failedAuthenticationDelayMs (100 ms).
    expect(at('kafka_proxy_authentication_duration_seconds_bucket{le="0.05",listener="test",mechanism="AWS_MSK_IAM"}')).toBe(0);
    expect(at('kafka_proxy_authentication_duration_seconds_bucket{le="+Inf",listener="test",mechanism="AWS_MSK_IAM"}')).toBe(1);

    // Requests and what the proxy added to them.
    expect(at('kafka_proxy_requests_total{listener="test",api="Metadata"}')).toBe(1);
    expect(at('kafka_proxy_requests_total{listener="test",api="Produce"}')).toBe(4);
    expect(at('kafka_proxy_added_latency_seconds_count{listener="test",api="Produce",direction="request"}')).toBe(3);
    expect(at('kafka_proxy_added_latency_seconds_count{listener="test",api="Produce",direction="response"}')).toBe(2);
    expect(at('kafka_proxy_added_latency_seconds_count{listener="test",api="Metadata",direction="request"}')).toBe(1);
    expect(at('kafka_proxy_added_latency_seconds_count{listener="test",api="Metadata",direction="response"}')).toBe(1);
    expect(at('kafka_proxy_client_bytes_received_total{listener="test"}')).toBeGreaterThan(0);
    expect(at('kafka_proxy_client_bytes_sent_total{listener="test"}')).toBeGreaterThan(0);

    // Authorization: the reloaded policy reached the live session (B allowed on its next request).
    expect(at('kafka_proxy_authorization_decisions_total{listener="test",api="Produce",outcome="allowed",mode="enforce"}')).toBe(2);
    expect(at('kafka_proxy_authorization_decisions_total{listener="test",api="Produce",outcome="denied",mode="enforce"}')).toBe(1);
    expect(at('kafka_proxy_authorization_decisions_total{listener="test",api="Produce",outcome="partial",mode="enforce"}')).toBe(1);
    expect(at('kafka_proxy_authorization_decisions_total{listener="test",api="Metadata",outcome="allowed",mode="enforce"}')).toBe(1);
    expect(at('kafka_proxy_authorization_denials_total{listener="test",api="Produce",resource="topic",mode="enforce"}')).toBe(2);

    // JWKS, policy and credentials, as read right after the second reload.
    const r = (series: string) => sample(afterReloads, series);
    expect(r('kafka_proxy_jwks_fetches_total{outcome="success"}')).toBe(2);
    expect(r('kafka_proxy_jwks_fetches_total{outcome="failure"}')).toBe(1);
    expect(r('kafka_proxy_jwks_keys')).toBe(2);
    expect(r('kafka_proxy_jwks_last_success_age_seconds')).toBeLessThan(60);
    expect(r('kafka_proxy_policy_reloads_total{outcome="success"}')).toBe(1);
    expect(r('kafka_proxy_policy_reloads_total{outcome="failure"}')).toBe(1);
    expect(r('kafka_proxy_credentials_reloads_total{outcome="success"}')).toBe(1);
    expect(r('kafka_proxy_credentials_reloads_total{outcome="failure"}')).toBe(1);
    const policyInfo = afterReloads.split('\n').filter((l) => l.startsWith('kafka_proxy_policy_info{'));
    expect(policyInfo).toEqual([`kafka_proxy_policy_info{hash="${createHash('sha256').update(POLICY_V2).digest('hex')}"} 1`]);
    expect(r('kafka_proxy_policy_loaded_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(r('kafka_proxy_buffered_bytes{budget="held-responses"}')).toBe(0);

    // Nothing a client sent, and no secret, ever becomes a label value.
    for (const secret of ['svc-writer', SECRET, ACCESS_KEY, topicA, topicB, '127.0.0.1']) expect(m).not.toContain(secret);
  });

  it('counts a bootstrap server it cannot reach as a broker connection failure', async () => {
    const [port, unused] = await pickFreePorts(2);
    const metrics = new ProxyMetrics();
    const config = configSchema.parse({
      upstream: { bootstrapServers: [`127.0.0.1:${unused}`] },
      listeners: [{ name: 'x', bind: '127.0.0.1', port, advertisedHost: '127.0.0.1', brokerPorts: { base: port + 1 }, authentication: 'none' }],
      limits: { connectTimeoutMs: 2_000 },
    });
    await expect(KafkaAuthProxy.start(config, createLogger('silent'), metrics)).rejects.toThrow(/no bootstrap server answered/);
    expect(sample(await metrics.registry.metrics(), 'kafka_proxy_broker_connection_failures_total{broker="bootstrap"}')).toBe(1);
  });
});

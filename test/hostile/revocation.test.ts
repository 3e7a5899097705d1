import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { amzDate } from '../support/amz-date.js';
import { bytes, iamToken, mskIamPayload } from '../support/aws-sign.js';
import { type TestKey, claimsFor, createTestKey, signToken } from '../support/forged-tokens.js';
import { JwksServer } from '../support/jwks-server.js';
import { recordBatch } from '../support/record-batch.js';
import { type TestProxy, startTestProxy } from '../integration/helpers/proxy.js';
import { authenticatedConnection, gs2 } from '../integration/helpers/raw-sasl.js';
import { createTopic } from '../integration/helpers/topics.js';

const run = randomUUID().slice(0, 8);
const topic = `revoke-${run}`;
const REGION = 'us-east-1';
const ISSUER = 'https://issuer.revocation.test';
const TOPIC_AUTHORIZATION_FAILED = 29;

/** Every key of the credentials file: secret, principal and roles. */
interface FileKey {
  secret: string;
  principal: string;
  roles: string[];
}

const KEYS: Record<string, FileKey> = {
  AKIAREVOKE0000001: { secret: 'revoke-secret-0001/abcdefghij', principal: 'User:alice', roles: ['writer'] },
  AKIAREVOKE0000002: { secret: 'revoke-secret-0002/abcdefghij', principal: 'User:bob', roles: ['writer'] },
  AKIAREVOKE0000003: { secret: 'revoke-secret-0003/abcdefghij', principal: 'User:carol', roles: ['writer'] },
  AKIAREVOKE0000004: { secret: 'revoke-secret-0004/abcdefghij', principal: 'User:dave', roles: ['writer'] },
};

const policy = (pipelineGrant: boolean) => `
roles:
  writer:
    - { topics: ["${topic}"], operations: [write] }
  reader:
    - { topics: ["${topic}"], operations: [read] }
  pipeline-writer:
    - { topics: ["${pipelineGrant ? topic : 'nothing-here'}"], operations: [write] }
`;

function credentialsYaml(keys: Record<string, FileKey>): string {
  const entries = Object.entries(keys).map(
    ([id, k]) => `  ${id}:\n    secretAccessKey: ${k.secret}\n    principal: ${k.principal}\n    roles: [${k.roles.join(', ')}]\n`,
  );
  return `accessKeys:\n${entries.join('')}`;
}

function produce(conn: KafkaConnection): Promise<number> {
  const request = {
    ...defaultProduceRequest(),
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: recordBatch(['v']) }] }],
  };
  return conn.request<ProduceResponse>(API_KEYS.Produce, 9, request).then((r) => r.body.responses[0].partitionResponses[0].errorCode);
}

/** The broker leading partition 0 of the topic, asked directly. */
async function leaderOf(name: string): Promise<number> {
  const [host, port] = inject('kafka').bootstrapServers[0].split(':');
  const conn = await KafkaConnection.connect(host, Number(port));
  try {
    const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name }] });
    return md.body.topics[0].partitions[0].leaderId;
  } finally {
    conn.close();
  }
}

describe('revocation reaches live sessions', () => {
  let tp: TestProxy;
  let jwks: JwksServer;
  let jwtKeyA: TestKey;
  let jwtKeyB: TestKey;
  let credentialsFile: string;
  let leaderPort: number;
  const fileKeys = structuredClone(KEYS);

  const writeCredentials = () => writeFileSync(credentialsFile, credentialsYaml(fileKeys));

  /** SaslHandshake AWS_MSK_IAM + SaslAuthenticate signed with `secret` (the file's by default). */
  async function awsLogin(accessKeyId: string, secret = KEYS[accessKeyId].secret): Promise<{ conn: KafkaConnection; res: SaslAuthenticateResponse }> {
    const conn = await KafkaConnection.connect('127.0.0.1', leaderPort);
    const hs = await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'AWS_MSK_IAM' });
    expect(hs.body.errorCode).toBe(0);
    const payload = mskIamPayload({ accessKeyId, secret, date: amzDate(), host: '127.0.0.1', region: REGION });
    const res = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: bytes(payload) });
    return { conn, res: res.body };
  }

  async function awsSession(accessKeyId: string, secret?: string): Promise<KafkaConnection> {
    const { conn, res } = await awsLogin(accessKeyId, secret);
    expect(res.errorCode, res.errorMessage ?? '').toBe(0);
    return conn;
  }

  const jwtFor = (key: TestKey, subject: string, roles: string[]) => signToken(key, claimsFor({ issuer: ISSUER, audience: 'kafka', subject, extra: { roles } }));

  const revokedSessions = (reason: string) =>
    tp.logs.filter((l) => l.msg === 'session revoked by a credential reload' && l.reason === reason).map((l) => l.principal);

  async function revokedCount(reason: string): Promise<number> {
    const metric = await tp.proxy.metrics.registry.getSingleMetric('kafka_proxy_sessions_revoked_total')!.get();
    return metric.values.find((v) => v.labels.listener === 'test' && v.labels.reason === reason)?.value ?? 0;
  }

  beforeAll(async () => {
    [jwtKeyA, jwtKeyB] = await Promise.all([createTestKey('RS256', `revoke-a-${run}`), createTestKey('ES256', `revoke-b-${run}`)]);
    jwks = await JwksServer.start([jwtKeyA.publicJwk, jwtKeyB.publicJwk]);
    credentialsFile = join(mkdtempSync(join(tmpdir(), 'revocation-')), 'credentials.yaml');
    writeCredentials();
    tp = await startTestProxy({
      authentication: ['AWS_MSK_IAM', 'OAUTHBEARER'],
      awsMskIam: { region: REGION, credentialsFile },
      oauthbearer: { jwksUrl: jwks.url, issuer: ISSUER },
      policy: policy(true),
    });
    const replicas = inject('kafka').brokers.map((b) => b.nodeId);
    await createTopic({ topic, replicaAssignment: [{ partition: 0, replicas }] });
    leaderPort = tp.brokerPorts.get(await leaderOf(topic))!;
  });

  afterAll(async () => {
    await tp?.stop();
    await jwks?.close();
  });

  it('(a) a removed access key ends its AWS_MSK_IAM and IAM-over-OAUTHBEARER sessions at their next request, without an answer', async () => {
    const removed = 'AKIAREVOKE0000001';
    const kept = 'AKIAREVOKE0000002';
    const mskIam = await awsSession(removed);
    const overOAuth = await authenticatedConnection(leaderPort, iamToken({ accessKeyId: removed, secret: KEYS[removed].secret, date: amzDate() }));
    const bystander = await awsSession(kept);
    for (const conn of [mskIam, overOAuth, bystander]) expect(await produce(conn)).toBe(0);

    delete fileKeys[removed];
    writeCredentials();
    await tp.proxy.reload();

    await expect(produce(mskIam)).rejects.toThrow(/closed/);
    await expect(produce(overOAuth)).rejects.toThrow(/closed/);
    expect(await produce(bystander)).toBe(0);
    const again = await awsLogin(removed);
    expect(again.res.errorCode).toBe(58);
    expect(again.res.errorMessage).toContain(`unknown access key id ${removed}`);
    again.conn.close();
    bystander.close();

    expect(revokedSessions('credential-removed')).toEqual(['User:alice', 'User:alice']);
    expect(await revokedCount('credential-removed')).toBe(2);
    const logged = JSON.stringify(tp.logs);
    for (const key of Object.values(KEYS)) expect(logged).not.toContain(key.secret);
  });

  it('(a) a changed secret ends the session signed with the old one; the new secret logs in', async () => {
    const id = 'AKIAREVOKE0000004';
    const conn = await awsSession(id);
    expect(await produce(conn)).toBe(0);

    fileKeys[id].secret = 'revoke-secret-0004/rotated-0000';
    writeCredentials();
    await tp.proxy.reload();

    await expect(produce(conn)).rejects.toThrow(/closed/);
    expect(revokedSessions('secret-changed')).toEqual(['User:dave']);
    const fresh = await awsSession(id, fileKeys[id].secret);
    expect(await produce(fresh)).toBe(0);
    fresh.close();
    expect(JSON.stringify(tp.logs)).not.toContain('rotated-0000');
  });

  it('(b) roles changed in the watched file decide the next request on the same connection, both ways', async () => {
    const id = 'AKIAREVOKE0000003';
    const conn = await awsSession(id);
    expect(await produce(conn)).toBe(0);

    // No reload call: the file watch finds the change by itself, and the session sees it at its next request.
    fileKeys[id].roles = ['reader'];
    writeCredentials();
    await vi.waitFor(async () => expect(await produce(conn)).toBe(TOPIC_AUTHORIZATION_FAILED), { timeout: 20_000, interval: 200 });

    fileKeys[id].roles = ['writer'];
    writeCredentials();
    await vi.waitFor(async () => expect(await produce(conn)).toBe(0), { timeout: 20_000, interval: 200 });
    conn.close();
    expect(tp.logs).toContainEqual(expect.objectContaining({ msg: 'authorization denied', principal: 'User:carol' }));
  });

  it('(c) an OAUTHBEARER session whose signing key leaves the JWKS ends at its next request', async () => {
    const goner = await authenticatedConnection(leaderPort, await jwtFor(jwtKeyA, 'svc-goner', ['writer']));
    const stayer = await authenticatedConnection(leaderPort, await jwtFor(jwtKeyB, 'svc-stayer', ['writer']));
    const tokenA = await jwtFor(jwtKeyA, 'svc-late', ['writer']);
    // Verified once, so the remembered-token cache holds it when the key goes.
    (await authenticatedConnection(leaderPort, tokenA)).close();
    for (const conn of [goner, stayer]) expect(await produce(conn)).toBe(0);

    jwks.keys = [jwtKeyB.publicJwk];
    await tp.proxy.reload();

    await expect(produce(goner)).rejects.toThrow(/closed/);
    expect(await produce(stayer)).toBe(0);
    stayer.close();
    const conn = await KafkaConnection.connect('127.0.0.1', leaderPort);
    await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    const refused = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: gs2(tokenA) });
    expect(refused.body.errorCode).toBe(58);
    expect(refused.body.errorMessage).toContain('no key with kid');
    conn.close();
    expect(revokedSessions('signing-key-removed')).toEqual(['svc-goner']);
    expect(await revokedCount('signing-key-removed')).toBe(1);
  });

  it('(d) a policy reload during pipelined requests: nothing after it is decided with the old grant', async () => {
    const conn = await authenticatedConnection(leaderPort, await jwtFor(jwtKeyB, 'svc-pipeline', ['pipeline-writer']));
    // The broker connection is open before the pipeline starts, so early requests are decided at once.
    expect(await produce(conn)).toBe(0);
    const sent: Array<Promise<{ code: number; sentAfterReload: boolean }>> = [];
    let answered = 0;
    let reloaded = false;
    const send = () => {
      const sentAfterReload = reloaded;
      sent.push(
        produce(conn).then((code) => {
          answered += 1;
          return { code, sentAfterReload };
        }),
      );
    };
    // Requests keep going out, a few per turn of the event loop, before, during and after the reload.
    const pump = (async () => {
      let afterReload = 0;
      while (afterReload < 60) {
        for (let i = 0; i < 5; i++) send();
        if (reloaded) afterReload += 5;
        await new Promise((r) => setImmediate(r));
      }
    })();
    await vi.waitFor(() => expect(answered).toBeGreaterThanOrEqual(20), { timeout: 20_000 });
    writeFileSync(tp.policyFile!, policy(false));
    await tp.proxy.reload();
    reloaded = true;
    await pump;

    const results = await Promise.all(sent);
    conn.close();
    const codes = results.map((r) => r.code);
    const firstDenied = codes.indexOf(TOPIC_AUTHORIZATION_FAILED);
    expect(codes[0]).toBe(0);
    expect(firstDenied).toBeGreaterThan(0);
    // Once a request is decided with the new policy, none after it is decided with the old one.
    expect(codes.slice(firstDenied).every((c) => c === TOPIC_AUTHORIZATION_FAILED)).toBe(true);
    expect(results.filter((r) => r.sentAfterReload).every((r) => r.code === TOPIC_AUTHORIZATION_FAILED)).toBe(true);
    expect(codes.slice(0, firstDenied).every((c) => c === 0)).toBe(true);
  });
});

import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultOffsetFetchRequest } from '../../src/protocol/generated/messages/OffsetFetchRequest.js';
import type { OffsetFetchResponse } from '../../src/protocol/generated/messages/OffsetFetchResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { oauthListener, startTestIssuer } from '../integration/helpers/issuer.js';
import { type TestProxy, startTestProxy } from '../integration/helpers/proxy.js';
import { authenticatedConnection, gs2 } from '../integration/helpers/raw-sasl.js';
import { createTopic } from '../integration/helpers/topics.js';
import { recordBatch } from '../support/record-batch.js';

const run = randomUUID().slice(0, 8);
const allowed = `limits-ok-${run}`;
const group = `limits-group-${run}`;
const MANY = 150_000;
const madeUp = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `limits-${tag}-${run}-${i}`);

/** An `authentication: none` listener: every connection is ANONYMOUS, a tenant with no credential at all. */
const POLICY = `
roles:
  tenant:
    - { topics: ["limits-ok-*"], operations: [read, write] }
    - { groups: ["limits-group-*"], operations: [read] }
  admin:
    - { topics: ["*"], operations: [all] }
  team-a:
    - { topics: ["team-a-*"], operations: [read] }
bindings:
  ANONYMOUS: [tenant]
`;

const metadataOf = (topics: string[]) => ({ ...defaultMetadataRequest(), allowAutoTopicCreation: false, topics: topics.map((name) => ({ name, topicId: ZERO_UUID })) });

function produceOf(topics: string[]) {
  return {
    ...defaultProduceRequest(),
    acks: -1,
    timeoutMs: 10_000,
    topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records: name === allowed ? recordBatch(['v']) : null }] })),
  };
}

const offsetFetchOf = (topics: string[]) => ({ ...defaultOffsetFetchRequest(), groupId: group, topics: topics.map((name) => ({ name, partitionIndexes: [0] })) });

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

/** The proxy port of the broker leading `topic`, so an allowed Produce is answered for real. */
async function leaderPort(tp: TestProxy, topic: string): Promise<number> {
  const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
  try {
    const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataOf([topic]));
    return tp.brokerPorts.get(md.body.topics[0].partitions[0].leaderId)!;
  } finally {
    conn.close();
  }
}

/** Sends raw bytes and resolves once the proxy closes the connection, with whatever it answered. */
function sendAndAwaitClose(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the proxy kept the connection open'));
    }, 20_000);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(received));
    });
  });
}

describe('hostile requests against authorization limits', () => {
  let tp: TestProxy;
  let capped: TestProxy;
  let witness: ReturnType<Kafka['admin']>;

  /** A client that has nothing to do with the attack: it must keep working throughout. */
  async function witnessStillWorks(): Promise<void> {
    const md = await witness.fetchTopicMetadata({ topics: [allowed] });
    expect(md.topics.map((t) => t.name)).toEqual([allowed]);
  }

  beforeAll(async () => {
    await createTopic({ topic: allowed, numPartitions: 1, replicationFactor: inject('kafka').brokers.length });
    // The merge tests need requests above the default cap to reach the rules.
    tp = await startTestProxy({ policy: POLICY, mode: 'enforce', limits: { maxEntitiesPerRequest: 1_000_000 } });
    capped = await startTestProxy({ policy: POLICY, mode: 'enforce' });
    witness = new Kafka({ clientId: 'limits-witness', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
    await witness.connect();
  });

  afterAll(async () => {
    await witness?.disconnect();
    await tp?.stop();
    await capped?.stop();
  });

  it('answers a Metadata naming 150,000 denied topics with 29 for each, and stays up for everyone', async () => {
    const rssBefore = rssMiB();
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    const names = madeUp('md', MANY);
    const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataOf(names));
    expect(md.body.topics).toHaveLength(MANY);
    expect(md.body.topics.every((t) => t.errorCode === 29 && t.partitions.length === 0)).toBe(true);
    expect(md.body.topics[MANY - 1].name).toBe(names[MANY - 1]);
    // The same connection still works: nothing but this request was refused.
    const again = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataOf([allowed]));
    expect(again.body.topics[0]).toMatchObject({ name: allowed, errorCode: 0 });
    conn.close();
    await witnessStillWorks();
    expect(rssMiB() - rssBefore).toBeLessThan(1024);
  });

  it('forwards the allowed topic of a Produce that also names 150,000 denied ones, and answers every one', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', await leaderPort(tp, allowed));
    const produce = await conn.request<ProduceResponse>(API_KEYS.Produce, 9, produceOf([allowed, ...madeUp('produce', MANY)]));
    expect(produce.body.responses).toHaveLength(MANY + 1);
    const byName = new Map(produce.body.responses.map((t) => [t.name, t.partitionResponses[0].errorCode]));
    expect(byName.get(allowed)).toBe(0);
    expect(produce.body.responses.filter((t) => t.partitionResponses[0].errorCode === 29)).toHaveLength(MANY);
    conn.close();
    await witnessStillWorks();
  });

  it('logs two requests of 40,000 distinct made-up topics as two lines, not 80,000', async () => {
    const before = tp.logs.length;
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    for (const tag of ['flood-1', 'flood-2']) await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataOf(madeUp(tag, 40_000)));
    conn.close();
    const lines = tp.logs.slice(before).filter((l) => l.msg === 'authorization denied');
    expect(lines).toEqual([
      expect.objectContaining({ api: 'Metadata', principal: 'ANONYMOUS', denials: 40_000, operations: { 'topic:describe': 40_000 } }),
      expect.objectContaining({ api: 'Metadata', principal: 'ANONYMOUS', denials: 40_000 }),
    ]);
    expect((lines[0].resources as unknown[]).length).toBeLessThanOrEqual(5);
  });

  it('refuses a request holding more than maxEntitiesPerRequest entries (default 100,000): 42 where the API has a top-level error, else the connection ends', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', capped.bootstrapPort);
    // Every list element counts: 50,001 topics of one partition each are 100,002 entries.
    const offsets = await conn.request<OffsetFetchResponse>(API_KEYS.OffsetFetch, 7, offsetFetchOf(madeUp('cap-of', 50_001)));
    expect(offsets.body).toMatchObject({ errorCode: 42, topics: [] });
    // At the limit (50,000 topics and their partitions) the request is decided as usual.
    const atLimit = await conn.request<OffsetFetchResponse>(API_KEYS.OffsetFetch, 7, offsetFetchOf(madeUp('cap-at', 50_000)));
    expect(atLimit.body.errorCode).toBe(0);
    expect(atLimit.body.topics.every((t) => t.partitions[0].errorCode === 29)).toBe(true);
    // Metadata has no top-level error at v12: an empty answer would read as "no such topics".
    await expect(conn.request(API_KEYS.Metadata, 12, metadataOf(madeUp('cap-md', 100_001)))).rejects.toThrow(/connection closed/);
    expect(capped.logs).toContainEqual(
      // Decoding stops at the first entry past the limit.
      expect.objectContaining({ level: 'warn', api: 'OffsetFetch', entities: 100_001, limit: 100_000, answer: 'error response', principal: 'ANONYMOUS' }),
    );
    expect(capped.logs).toContainEqual(expect.objectContaining({ level: 'warn', api: 'Metadata', entities: 100_001, answer: 'connection closed' }));
    expect(capped.logs).toContainEqual(expect.objectContaining({ msg: 'malformed request; closing the connection', code: 'too-many-entities' }));
    const refused = await capped.proxy.metrics.registry.getSingleMetric('kafka_proxy_requests_refused_total')!.get();
    expect(refused.values.filter((v) => v.labels.reason === 'too-many-entities').map((v) => [v.labels.api, v.value])).toEqual(
      expect.arrayContaining([
        ['OffsetFetch', 1],
        ['Metadata', 1],
      ]),
    );
    const other = await KafkaConnection.connect('127.0.0.1', capped.bootstrapPort);
    expect((await other.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataOf([allowed]))).body.topics[0].errorCode).toBe(0);
    other.close();
  });

  it('counts partitions: one denied topic with 1,000,000 partitions (6 MB) ends only that connection, at once', async () => {
    const rssBefore = rssMiB();
    const conn = await KafkaConnection.connect('127.0.0.1', capped.bootstrapPort);
    const produce = { ...defaultProduceRequest(), acks: -1, topicData: [{ name: 'made-up-partitions', partitionData: Array.from({ length: 1_000_000 }, (_, index) => ({ index, records: null })) }] };
    await expect(conn.request(API_KEYS.Produce, 9, produce)).rejects.toThrow(/connection closed/);
    expect(capped.logs).toContainEqual(expect.objectContaining({ level: 'warn', api: 'Produce', entities: 1_000_001, answer: 'connection closed' }));
    expect(rssMiB() - rssBefore).toBeLessThan(512);
    const other = await KafkaConnection.connect('127.0.0.1', capped.bootstrapPort);
    expect((await other.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataOf([allowed]))).body.topics[0].errorCode).toBe(0);
    other.close();
  });
});

describe('hostile identities and pre-authentication frames', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { policy: POLICY, mode: 'enforce' }));
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  async function authenticationOf(token: string): Promise<SaslAuthenticateResponse> {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    try {
      const hs = await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
      expect(hs.body.errorCode).toBe(0);
      return (await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: gs2(token) })).body;
    } finally {
      conn.close();
    }
  }

  it('refuses a principal "carol\\u0000admin" instead of handing it the cached grants of carol with [admin, team-a]', async () => {
    // carol with both roles first, so her grants are cached.
    const carol = await authenticatedConnection(tp.bootstrapPort, await issuer.mint({ subject: 'carol', roles: ['admin', 'team-a'] }));
    carol.close();
    const token = await issuer.mint({ subject: 'carol\u0000admin', roles: ['team-a'] });
    const refused = await authenticationOf(token);
    expect(refused).toMatchObject({ errorCode: 58, errorMessage: 'Authentication failed: credential refused: principal contains a control character' });
    const failure = tp.logs.find((l) => l.msg === 'authentication failed' && String(l.reason).includes('control character'));
    expect(failure).toBeDefined();
    expect(JSON.stringify(tp.logs)).not.toContain(token);
  });

  it('refuses over-long principals and role names with control characters', async () => {
    expect(await authenticationOf(await issuer.mint({ subject: 'x'.repeat(256) }))).toMatchObject({
      errorCode: 58,
      errorMessage: 'Authentication failed: credential refused: principal is longer than 255 characters',
    });
    expect(await authenticationOf(await issuer.mint({ subject: 'dave', roles: ['team-a\nadmin'] }))).toMatchObject({
      errorCode: 58,
      errorMessage: 'Authentication failed: credential refused: a role name contains a control character',
    });
    expect(await authenticationOf(await issuer.mint({ subject: 'x'.repeat(255), roles: ['team-a'] }))).toMatchObject({ errorCode: 0 });
  });

  it('closes on a pre-authentication frame shorter than a request header, as malformed input', async () => {
    const answer = await sendAndAwaitClose(tp.bootstrapPort, Buffer.from([0, 0, 0, 2, 0, 17]));
    expect(answer).toHaveLength(0);
    await expect.poll(() => tp.logs.some((l) => l.msg === 'malformed request; closing the connection' && l.code === 'truncated')).toBe(true);
    expect(tp.logs.some((l) => l.msg.startsWith('internal error'))).toBe(false);
  });
});

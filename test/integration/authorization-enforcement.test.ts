import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { recordBatch } from '../support/record-batch.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { fetchPartitionZero } from './helpers/fetch-requests.js';
import { authenticatedConnection } from './helpers/raw-sasl.js';
import { createTopic } from './helpers/topics.js';

const run = randomUUID().slice(0, 8);
/** Allowed by the policy below (prefix grants); B topics are not. */
const topicA = `authz-a-${run}`;
const topicB = `authz-b-${run}`;
const group = `authz-group-${run}`;

const POLICY = `
roles:
  writer:
    - { topics: ["authz-a-*"], operations: [write] }
  reader:
    - { topics: ["authz-a-*"], operations: [read] }
    - { groups: ["authz-group-*"], operations: [read] }
  reader-no-group:
    - { topics: ["authz-a-*"], operations: [read] }
  txn:
    - { transactionalIds: ["authz-tx-*"], operations: [write] }
  topic-admin:
    - { topics: ["authz-admin-*"], operations: [create, delete, alter-configs, describe-configs] }
bindings:
  svc-bound-writer: [writer]
`;

/** `retries: 0` so refusals surface at once; null keeps kafkajs' default (idempotent producers need retries). */
function kafkaFor(tp: TestProxy, token: () => Promise<string>, retries: number | null = 0): Kafka {
  return new Kafka({
    clientId: 'authz-kafkajs',
    brokers: [tp.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: retries === null ? undefined : { retries },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token() }) },
  });
}

/** The broker's view of `topic`: its id and the node leading its (first) partition. */
async function describeTopic(topic: string): Promise<{ topicId: string; leader: number }> {
  const [host, port] = inject('kafka').bootstrapServers[0].split(':');
  const conn = await KafkaConnection.connect(host, Number(port));
  try {
    const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name: topic }] });
    const [t] = md.body.topics;
    return { topicId: t.topicId, leader: t.partitions[0].leaderId };
  } finally {
    conn.close();
  }
}

const leaderOf = async (topic: string) => (await describeTopic(topic)).leader;
const topicIdOf = async (topic: string) => (await describeTopic(topic)).topicId;

/** The Kafka error name of a kafkajs failure, which may wrap the protocol error. */
async function kafkaErrorOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (e) {
    const err = e as { type?: string; cause?: { type?: string } };
    return err.type ?? err.cause?.type ?? String(e);
  }
  return 'no error';
}

/** Runs a consumer until its first message (resolved) or its first crash (rejected with the Kafka error name). */
function firstMessageOrCrash(consumer: Consumer): Promise<string> {
  return new Promise((resolve, reject) => {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const err = payload.error as Error & { type?: string; cause?: { type?: string } };
      reject(new Error(err.type ?? err.cause?.type ?? err.message));
    });
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
  });
}

function produceTo(topics: string[], acks = -1, values = ['v']) {
  return {
    ...defaultProduceRequest(),
    acks,
    timeoutMs: 10_000,
    topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records: recordBatch(values) }] })),
  };
}

describe('authorization on an OAUTHBEARER listener (enforce)', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;
  const token = (subject: string, roles: string[]) => () => issuer.mint({ subject, roles });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { policy: POLICY }));
    // One partition each, led by the same broker, so one Produce request can carry both; replicated
    // on every broker so other tests that stop a broker still find a leader.
    const replicas = inject('kafka').brokers.map((b) => b.nodeId);
    for (const topic of [topicA, topicB]) await createTopic({ topic, replicaAssignment: [{ partition: 0, replicas }] });
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it('writes the allowed topic of a mixed Produce request and answers 29 for the denied one', async () => {
    const node = await leaderOf(topicA);
    expect(await leaderOf(topicB)).toBe(node);
    const conn = await authenticatedConnection(tp.brokerPorts.get(node)!, await issuer.mint({ subject: 'svc-w', roles: ['writer'] }));
    try {
      const res = await conn.request<ProduceResponse>(API_KEYS.Produce, 9, produceTo([topicA, topicB], -1, ['mixed']));
      const codes = Object.fromEntries(res.body.responses.map((t) => [t.name, t.partitionResponses[0].errorCode]));
      expect(codes).toEqual({ [topicA]: 0, [topicB]: 29 });
    } finally {
      conn.close();
    }
    const direct = new Kafka({ brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await direct.connect();
    try {
      const [a] = await direct.fetchTopicOffsets(topicA);
      const [b] = await direct.fetchTopicOffsets(topicB);
      expect(Number(a.high)).toBeGreaterThan(0);
      expect(b.high).toBe('0');
    } finally {
      await direct.disconnect();
    }
    expect(tp.logs).toContainEqual(
      expect.objectContaining({
        msg: 'authorization denied',
        principal: 'svc-w',
        api: 'Produce',
        resources: expect.arrayContaining([{ resourceType: 'topic', resourceName: topicB, operation: 'write' }]),
      }),
    );
  });

  it('gives kafkajs TOPIC_AUTHORIZATION_FAILED for a denied write and lets an allowed one through', async () => {
    const producer = kafkaFor(tp, token('svc-w2', ['writer'])).producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic: topicA, messages: [{ value: 'ok' }] })).resolves.toHaveLength(1);
      expect(await kafkaErrorOf(producer.send({ topic: topicB, messages: [{ value: 'no' }] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await producer.disconnect();
    }
  });

  it('takes roles from bindings as well as from the token', async () => {
    const producer = kafkaFor(tp, token('svc-bound-writer', [])).producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic: topicA, messages: [{ value: 'bound' }] })).resolves.toHaveLength(1);
    } finally {
      await producer.disconnect();
    }
  });

  it('lets a consumer read through a prefix grant, and refuses a consumer its group or its topic', async () => {
    // The coordinator of a new group may take a moment to load: the allowed consumer retries.
    const allowed = kafkaFor(tp, token('svc-r', ['reader']), null).consumer({ groupId: group });
    await allowed.connect();
    try {
      await allowed.subscribe({ topics: [topicA], fromBeginning: true });
      expect(await firstMessageOrCrash(allowed)).toBe('mixed');
    } finally {
      await allowed.disconnect();
    }

    const noGroup = kafkaFor(tp, token('svc-r2', ['reader-no-group'])).consumer({ groupId: group, retry: { retries: 0, restartOnFailure: async () => false } });
    await noGroup.connect();
    try {
      await noGroup.subscribe({ topics: [topicA], fromBeginning: true });
      // kafkajs reports a refused FindCoordinator only as "Failed to find group coordinator".
      await expect(firstMessageOrCrash(noGroup)).rejects.toThrow(/GROUP_AUTHORIZATION_FAILED|Failed to find group coordinator/);
      expect(tp.logs).toContainEqual(
        expect.objectContaining({ msg: 'authorization denied', principal: 'svc-r2', resources: expect.arrayContaining([expect.objectContaining({ resourceType: 'group', resourceName: group })]) }),
      );
    } finally {
      await noGroup.disconnect();
    }

    const noTopic = kafkaFor(tp, token('svc-r3', ['reader'])).consumer({ groupId: `${group}-b`, retry: { retries: 0, restartOnFailure: async () => false } });
    await noTopic.connect();
    try {
      expect(await kafkaErrorOf(noTopic.subscribe({ topics: [topicB], fromBeginning: true }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await noTopic.disconnect();
    }
  });

  it('hides topics the principal may not describe from a metadata listing', async () => {
    const admin = kafkaFor(tp, token('svc-r4', ['reader'])).admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(topics).toContain(topicA);
      expect(topics).not.toContain(topicB);
      expect(topics.every((t) => t.startsWith('authz-a-'))).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });

  it('authorizes Fetch v13 by topic id through the name it learns, and answers 100 for an unknown id', async () => {
    const [idA, idB] = [await topicIdOf(topicA), await topicIdOf(topicB)];
    const node = await leaderOf(topicA);
    const conn = await authenticatedConnection(tp.brokerPorts.get(node)!, await issuer.mint({ subject: 'svc-r5', roles: ['reader'] }));
    try {
      const unknownId = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
      const res = await conn.request<FetchResponse>(API_KEYS.Fetch, 13, fetchPartitionZero([idA, idB, unknownId].map((topicId) => ({ topicId }))));
      const codes = new Map(res.body.responses.map((t) => [t.topicId, t.partitions[0].errorCode]));
      expect(codes.get(idA)).toBe(0);
      expect(codes.get(idB)).toBe(29);
      expect(codes.get(unknownId)).toBe(100);
      expect(res.body.responses.find((t) => t.topicId === idA)!.partitions[0].records!.length).toBeGreaterThan(0);
    } finally {
      conn.close();
    }
  });

  it('drops a denied acks=0 Produce without an answer, counts it, and keeps the connection in order', async () => {
    const node = await leaderOf(topicB);
    const conn = await authenticatedConnection(tp.brokerPorts.get(node)!, await issuer.mint({ subject: 'svc-w3', roles: ['writer'] }));
    try {
      let answered = false;
      const dropped = conn.request(API_KEYS.Produce, 9, produceTo([topicB], 0)).then(
        () => (answered = true),
        () => {},
      );
      const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] });
      expect(md.body.brokers.length).toBeGreaterThan(0);
      expect(answered).toBe(false);
      const metrics = await tp.proxy.metrics.registry.getSingleMetricAsString('kafka_proxy_dropped_produce_requests_total');
      expect(metrics).toMatch(/listener="test"} 1/);
      conn.close();
      await dropped;
    } finally {
      conn.close();
    }
  });

  it('refuses an idempotent producer without write anywhere and a transactional one without TransactionalId Write', async () => {
    const idempotentOk = kafkaFor(tp, token('svc-w4', ['writer']), null).producer({ idempotent: true });
    await idempotentOk.connect();
    try {
      await expect(idempotentOk.send({ topic: topicA, messages: [{ value: 'idem' }] })).resolves.toHaveLength(1);
    } finally {
      await idempotentOk.disconnect();
    }
    // kafkajs asks for a producer id (InitProducerId) when an idempotent producer connects.
    const idempotentDenied = kafkaFor(tp, token('svc-r6', ['reader']), null).producer({ idempotent: true });
    try {
      expect(await kafkaErrorOf(idempotentDenied.connect())).toBe('CLUSTER_AUTHORIZATION_FAILED');
    } finally {
      await idempotentDenied.disconnect();
    }

    const txnOk = kafkaFor(tp, token('svc-t', ['writer', 'txn']), null).producer({ transactionalId: `authz-tx-${run}`, idempotent: true, maxInFlightRequests: 1 });
    await txnOk.connect();
    try {
      const txn = await txnOk.transaction();
      await txn.send({ topic: topicA, messages: [{ value: 'in-txn' }] });
      await txn.commit();
    } finally {
      await txnOk.disconnect();
    }
    const txnDenied = kafkaFor(tp, token('svc-t2', ['writer']), null).producer({ transactionalId: `other-tx-${run}`, idempotent: true, maxInFlightRequests: 1 });
    const refused = kafkaErrorOf(
      (async () => {
        await txnDenied.connect();
        await txnDenied.transaction();
      })(),
    );
    // The refusal comes at FindCoordinator (TransactionalId Describe), which kafkajs reports without its error code.
    expect(await refused).toMatch(/TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Failed to find group coordinator/);
    expect(tp.logs).toContainEqual(
      expect.objectContaining({
        msg: 'authorization denied',
        principal: 'svc-t2',
        resources: expect.arrayContaining([expect.objectContaining({ resourceType: 'transactionalId', resourceName: `other-tx-${run}` })]),
      }),
    );
    await txnDenied.disconnect();
  });

  it('allows and denies admin operations by topic grants', async () => {
    const admin = kafkaFor(tp, token('svc-admin', ['topic-admin'])).admin();
    await admin.connect();
    const allowedTopic = `authz-admin-${run}`;
    try {
      await expect(admin.createTopics({ topics: [{ topic: allowedTopic, replicationFactor: 3 }], waitForLeaders: false })).resolves.toBe(true);
      await expect(admin.createTopics({ topics: [{ topic: `authz-other-${run}` }], waitForLeaders: false })).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })],
      });
      await expect(admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: allowedTopic, configEntries: [{ name: 'retention.ms', value: '60000' }] }] })).resolves.toBeDefined();
      expect(await kafkaErrorOf(admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topicA, configEntries: [{ name: 'retention.ms', value: '60000' }] }] }))).toBe(
        'TOPIC_AUTHORIZATION_FAILED',
      );
      expect(await kafkaErrorOf(admin.deleteTopics({ topics: [topicA] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
      await expect(admin.deleteTopics({ topics: [allowedTopic] })).resolves.toBeUndefined();
    } finally {
      await admin.disconnect();
    }
  });

  it('applies a reloaded policy to a live connection without reconnecting', async () => {
    const node = await leaderOf(topicA);
    const conn = await authenticatedConnection(tp.brokerPorts.get(node)!, await issuer.mint({ subject: 'svc-r7', roles: ['reader'] }));
    const fetchA = async () => (await conn.request<FetchResponse>(API_KEYS.Fetch, 12, fetchPartitionZero([{ topic: topicA }]))).body.responses[0].partitions[0].errorCode;
    try {
      expect(await fetchA()).toBe(0);
      const reloads = tp.logs.filter((l) => l.msg === 'policy reloaded').length;
      writeFileSync(tp.policyFile!, POLICY.replace('- { topics: ["authz-a-*"], operations: [read] }\n    - { groups', '- { topics: ["authz-none"], operations: [read] }\n    - { groups'));
      await tp.proxy.reload();
      expect(tp.logs.filter((l) => l.msg === 'policy reloaded').length).toBeGreaterThan(reloads);
      expect(await fetchA()).toBe(29);
    } finally {
      writeFileSync(tp.policyFile!, POLICY);
      await tp.proxy.reload();
      conn.close();
    }
  });
});

describe('authorization in audit mode', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { policy: POLICY, mode: 'audit' }));
    await createTopic({ topic: `authz-audit-${run}`, replicationFactor: 3 });
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it('lets a denied write through and logs and counts it as a would-be denial', async () => {
    const producer = kafkaFor(tp, () => issuer.mint({ subject: 'svc-audited', roles: ['reader'] })).producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic: `authz-audit-${run}`, messages: [{ value: 'audited' }] })).resolves.toHaveLength(1);
    } finally {
      await producer.disconnect();
    }
    expect(tp.logs).toContainEqual(
      expect.objectContaining({
        msg: 'audit: request would be denied in enforce mode',
        principal: 'svc-audited',
        resources: expect.arrayContaining([expect.objectContaining({ resourceName: `authz-audit-${run}`, operation: 'write' })]),
      }),
    );
    const counted = await tp.proxy.metrics.registry.getSingleMetricAsString('kafka_proxy_authorization_denials_total');
    expect(counted).toMatch(/api="Produce",resource="topic",mode="audit"} [1-9]/);
  });
});

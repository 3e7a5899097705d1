import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeniedResource } from '../../src/authz/request-denials.js';
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { createLogger } from '../../src/observe/logger.js';
import {
  type ConsumeResult,
  InteropClientError,
  type InteropRunOptions,
  type ProduceResult,
  javaOAuthArgs,
  pythonOAuthArgs,
  runJavaClient,
  runPythonClient,
} from '../support/interop-clients.js';
import { oauthListener } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * Real clients meet the proxy's authorization denials: Java kafka-clients and librdkafka must
 * raise the authorization error a broker's ACLs would give them, keep what is allowed working,
 * and give up at once instead of reconnecting or retrying until their own timeouts.
 */

/**
 * authzi-a-*: writable and readable. authzi-b-*: no grant at all, so Metadata hides it.
 * authzi-c-*: visible (describe) but neither writable nor readable, so Produce and Fetch are refused.
 */
const POLICY = `
roles:
  writer:
    - { topics: ["authzi-a-*"], operations: [write] }
    - { topics: ["authzi-c-*"], operations: [describe] }
  reader:
    - { topics: ["authzi-a-*"], operations: [read] }
    - { topics: ["authzi-c-*"], operations: [describe] }
    - { groups: ["authzi-g-*"], operations: [read] }
  txn:
    - { transactionalIds: ["authzi-tx-*"], operations: [write] }
`;

/** Token-endpoint clients, one principal (= client id) per client run, so each run's connections can be counted. */
const ROLES: Record<string, string[]> = {
  'java-producer': ['writer'],
  'python-producer': ['writer'],
  'java-reader': ['reader'],
  'java-reader-hidden': ['reader'],
  'java-reader-visible': ['reader'],
  'java-reader-other-group': ['reader'],
  'python-reader': ['reader'],
  'python-reader-hidden': ['reader'],
  'python-reader-visible': ['reader'],
  'python-reader-other-group': ['reader'],
  'java-txn': ['writer', 'txn'],
  'java-txn-other': ['writer', 'txn'],
};
const CLIENTS = Object.fromEntries(Object.entries(ROLES).map(([id, roles]) => [id, { secret: `${id}-secret`, subject: id, roles }]));

const COUNT = 20;
/**
 * The Java producer looks a topic it may not see up again for every record sent to it, and its
 * metadata backoff for unchanged answers (Metadata.equivalentResponseCount) grows towards
 * retry.backoff.max.ms, 1 s: 20 records take it some 18 s, as they would against a broker's ACLs.
 * Five keep its run time about start-up.
 */
const JAVA_COUNT = 5;
/** The clients' own waits are 60 s and more (max.block.ms, --timeout-ms); a client that loops runs into them. */
const RUN: InteropRunOptions = { timeoutMs: 90_000 };
const CONSUME_TIMEOUT = ['--timeout-ms', '60000'];
/** JVM start-up with its in-memory compile included, on a small machine. */
const PROMPT_MS = 30_000;

const JAVA_TOPIC_DENIED = 'org.apache.kafka.common.errors.TopicAuthorizationException';
const JAVA_GROUP_DENIED = 'org.apache.kafka.common.errors.GroupAuthorizationException';
const JAVA_TXN_DENIED = 'org.apache.kafka.common.errors.TransactionalIdAuthorizationException';

/** From `produce-each`: per topic what was delivered and what failed, with the first failure. */
interface ProduceEachResult {
  topics: Record<string, { delivered: number; failed: number; error?: { type?: string; code: string; message: string; unauthorizedTopics?: string[] } }>;
}

/** A client's {error, type[, code]} line; `code` is the Kafka error name (Python client only). */
interface Refusal {
  error: string;
  type: string;
  code?: string;
}

async function freshTopic(kind: 'a' | 'b' | 'c'): Promise<string> {
  const topic = `authzi-${kind}-${randomUUID().slice(0, 8)}`;
  await createTopic({ topic, numPartitions: 3, replicationFactor: 3 });
  return topic;
}

/** Records in each topic as the brokers themselves report them, not through the proxy. */
async function brokerRecordCounts(topics: string[]): Promise<Record<string, number>> {
  const admin = new Kafka({ clientId: 'authzi-check', brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const counts: Record<string, number> = {};
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      counts[topic] = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    }
    return counts;
  } finally {
    await admin.disconnect();
  }
}

/** Writes `count` records straight to the brokers, spread over the topic's 3 partitions. */
async function writeDirect(topic: string, count: number): Promise<void> {
  const producer = new Kafka({ clientId: 'authzi-seed', brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition: i % 3, value: `seed-${i}` })) });
  } finally {
    await producer.disconnect();
  }
}

async function timed<T>(run: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await run;
  return { result, ms: Date.now() - started };
}

/** Resolves with the client's error line and how long the run took; a client that succeeded fails the test. */
async function refusal(run: Promise<unknown>): Promise<Refusal & { ms: number }> {
  const started = Date.now();
  const e = await run.then(
    (out: unknown) => new Error(`the client was not refused: ${JSON.stringify(out)}`),
    (err: unknown) => err,
  );
  if (!(e instanceof InteropClientError) || !e.result) throw e;
  return { ...(e.result as Refusal), ms: Date.now() - started };
}

describe('Java and librdkafka clients against the proxy’s authorization denials', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;
  const brokers = inject('kafka').brokers.length;

  const javaAuth = (id: string) => javaOAuthArgs({ tokenUrl: issuer.tokenUrl, clientId: id, clientSecret: CLIENTS[id].secret });
  const pythonAuth = (id: string) => pythonOAuthArgs({ tokenUrl: issuer.tokenUrl, clientId: id, clientSecret: CLIENTS[id].secret });

  /** Connections the principal opened: each authenticates once (re-authentications are not new connections). */
  const connections = (principal: string) => tp.logs.filter((l) => l.msg === 'authenticated' && l.principal === principal && l.reauthentication === false).length;
  /** Each denied entity the principal's denial lines quote, with the API of its request. */
  const denialsOf = (principal: string) =>
    tp.logs
      .filter((l) => l.msg === 'authorization denied' && l.principal === principal)
      .flatMap((l) => (l.resources as DeniedResource[]).map((r) => ({ api: l.api, ...r })));

  /**
   * A client that takes a denial as final opens at most one connection per broker plus its
   * bootstrap and group-coordinator connections, and is done long before its own timeouts.
   */
  function expectGaveUpPromptly(principal: string, ms: number): void {
    expect(connections(principal), `connections of ${principal}`).toBeGreaterThan(0);
    expect(connections(principal), `connections of ${principal}`).toBeLessThanOrEqual(brokers + 2);
    expect(tp.logs.filter((l) => l.msg === 'authentication failed' && l.principal === principal)).toEqual([]);
    expect(ms, `run time of ${principal}`).toBeLessThan(PROMPT_MS);
  }

  beforeAll(async () => {
    issuer = await startDevIssuer({ port: 0, clients: CLIENTS, log: createLogger('silent') });
    tp = await startTestProxy(oauthListener(issuer, { policy: POLICY }));
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  describe('a producer sending to an allowed and two denied topics in one session', () => {
    it('Java: the allowed topic is written, each denied one fails with TopicAuthorizationException naming it', async () => {
      const [a, b, c] = await Promise.all([freshTopic('a'), freshTopic('b'), freshTopic('c')]);
      const { result, ms } = await timed(runJavaClient<ProduceEachResult>(['produce-each', tp.bootstrap, [a, b, c].join(','), String(JAVA_COUNT), ...javaAuth('java-producer')], RUN));

      expect(result.topics[a]).toEqual({ delivered: JAVA_COUNT, failed: 0 });
      for (const denied of [b, c]) {
        expect(result.topics[denied], denied).toEqual({
          delivered: 0,
          failed: JAVA_COUNT,
          error: { type: JAVA_TOPIC_DENIED, code: 'TOPIC_AUTHORIZATION_FAILED', message: `Not authorized to access topics: [${denied}]`, unauthorizedTopics: [denied] },
        });
      }
      expect(await brokerRecordCounts([a, b, c])).toEqual({ [a]: JAVA_COUNT, [b]: 0, [c]: 0 });
      // b is refused when the producer looks it up, c (which it may see) when it writes.
      expect(denialsOf('java-producer')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ api: 'Metadata', resourceType: 'topic', resourceName: b, operation: 'describe' }),
          expect.objectContaining({ api: 'Produce', resourceType: 'topic', resourceName: c, operation: 'write' }),
        ]),
      );
      expectGaveUpPromptly('java-producer', ms);
    });

    it('librdkafka: the allowed topic is written, each denied one fails with TOPIC_AUTHORIZATION_FAILED', async () => {
      const [a, b, c] = await Promise.all([freshTopic('a'), freshTopic('b'), freshTopic('c')]);
      const { result, ms } = await timed(runPythonClient<ProduceEachResult>(['produce-each', tp.bootstrap, [a, b, c].join(','), String(COUNT), ...pythonAuth('python-producer')], RUN));

      expect(result.topics[a]).toEqual({ delivered: COUNT, failed: 0 });
      for (const denied of [b, c]) {
        expect(result.topics[denied], denied).toEqual({ delivered: 0, failed: COUNT, error: { code: 'TOPIC_AUTHORIZATION_FAILED', message: expect.any(String) } });
      }
      expect(await brokerRecordCounts([a, b, c])).toEqual({ [a]: COUNT, [b]: 0, [c]: 0 });
      expect(denialsOf('python-producer')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ api: 'Metadata', resourceType: 'topic', resourceName: b, operation: 'describe' }),
          expect.objectContaining({ api: 'Produce', resourceType: 'topic', resourceName: c, operation: 'write' }),
        ]),
      );
      expectGaveUpPromptly('python-producer', ms);
    });
  });

  describe('a consumer denied its topic or its group', () => {
    let readable: string;
    let hidden: string;
    let visible: string;

    beforeAll(async () => {
      [readable, hidden, visible] = await Promise.all([freshTopic('a'), freshTopic('b'), freshTopic('c')]);
      await Promise.all([writeDirect(readable, COUNT), writeDirect(visible, COUNT)]);
    });

    it('Java: reads its topic in its group, and gets TopicAuthorizationException / GroupAuthorizationException otherwise', async () => {
      const group = `authzi-g-${randomUUID().slice(0, 8)}`;
      const consume = (principal: string, topic: string, groupId: string) =>
        runJavaClient<ConsumeResult>(['consume', tp.bootstrap, topic, groupId, String(COUNT), ...CONSUME_TIMEOUT, ...javaAuth(principal)], RUN);

      // The same role, within its grants: everything is read.
      expect(await consume('java-reader', readable, group)).toEqual({ consumed: COUNT, partitions: [0, 1, 2] });
      expect(denialsOf('java-reader')).toEqual([]);

      const hiddenTopic = await refusal(consume('java-reader-hidden', hidden, group));
      expect(hiddenTopic).toMatchObject({ type: JAVA_TOPIC_DENIED, error: `Not authorized to access topics: [${hidden}]` });
      expect(denialsOf('java-reader-hidden')).toContainEqual(expect.objectContaining({ api: 'Metadata', resourceName: hidden, operation: 'describe' }));
      expectGaveUpPromptly('java-reader-hidden', hiddenTopic.ms);

      // It may see this topic and join the group, so the refusal comes from Fetch.
      const visibleTopic = await refusal(consume('java-reader-visible', visible, group));
      expect(visibleTopic).toMatchObject({ type: JAVA_TOPIC_DENIED, error: `Not authorized to access topics: [${visible}]` });
      expect(denialsOf('java-reader-visible')).toContainEqual(expect.objectContaining({ api: 'Fetch', resourceName: visible, operation: 'read' }));
      expectGaveUpPromptly('java-reader-visible', visibleTopic.ms);

      const otherGroup = `other-g-${randomUUID().slice(0, 8)}`;
      const deniedGroup = await refusal(consume('java-reader-other-group', readable, otherGroup));
      expect(deniedGroup).toMatchObject({ type: JAVA_GROUP_DENIED, error: `Not authorized to access group: ${otherGroup}` });
      expect(denialsOf('java-reader-other-group')).toContainEqual(
        expect.objectContaining({ api: 'FindCoordinator', resourceType: 'group', resourceName: otherGroup, operation: 'describe' }),
      );
      expectGaveUpPromptly('java-reader-other-group', deniedGroup.ms);
    });

    it('librdkafka: reads its topic in its group, and gets TOPIC_AUTHORIZATION_FAILED / GROUP_AUTHORIZATION_FAILED otherwise', async () => {
      const group = `authzi-g-${randomUUID().slice(0, 8)}`;
      const consume = (principal: string, topic: string, groupId: string) =>
        runPythonClient<ConsumeResult>(['consume', tp.bootstrap, topic, groupId, String(COUNT), ...CONSUME_TIMEOUT, ...pythonAuth(principal)], RUN);

      expect(await consume('python-reader', readable, group)).toEqual({ consumed: COUNT, partitions: [0, 1, 2] });
      expect(denialsOf('python-reader')).toEqual([]);

      const hiddenTopic = await refusal(consume('python-reader-hidden', hidden, group));
      expect(hiddenTopic).toMatchObject({ type: 'KafkaException', code: 'TOPIC_AUTHORIZATION_FAILED' });
      expect(hiddenTopic.error).toContain(hidden);
      expect(denialsOf('python-reader-hidden')).toContainEqual(expect.objectContaining({ api: 'Metadata', resourceName: hidden, operation: 'describe' }));
      expectGaveUpPromptly('python-reader-hidden', hiddenTopic.ms);

      const visibleTopic = await refusal(consume('python-reader-visible', visible, group));
      expect(visibleTopic).toMatchObject({ type: 'KafkaException', code: 'TOPIC_AUTHORIZATION_FAILED' });
      expect(denialsOf('python-reader-visible')).toContainEqual(expect.objectContaining({ api: 'Fetch', resourceName: visible, operation: 'read' }));
      expectGaveUpPromptly('python-reader-visible', visibleTopic.ms);

      const otherGroup = `other-g-${randomUUID().slice(0, 8)}`;
      const deniedGroup = await refusal(consume('python-reader-other-group', readable, otherGroup));
      expect(deniedGroup).toMatchObject({ type: 'KafkaException', code: 'GROUP_AUTHORIZATION_FAILED' });
      expect(denialsOf('python-reader-other-group')).toContainEqual(
        expect.objectContaining({ api: 'FindCoordinator', resourceType: 'group', resourceName: otherGroup, operation: 'describe' }),
      );
      expectGaveUpPromptly('python-reader-other-group', deniedGroup.ms);
    });
  });

  it('Java transactional producer: commits with its granted transactional id, gets TransactionalIdAuthorizationException with another', async () => {
    const topic = await freshTopic('a');
    const produce = (principal: string, transactionalId: string) =>
      runJavaClient<ProduceResult>(['produce', tp.bootstrap, topic, String(COUNT), '--transactional-id', transactionalId, ...javaAuth(principal)], RUN);

    expect(await produce('java-txn', `authzi-tx-${randomUUID().slice(0, 8)}`)).toEqual({ produced: COUNT, partitions: [0, 1, 2] });
    expect(denialsOf('java-txn')).toEqual([]);

    const otherId = `other-tx-${randomUUID().slice(0, 8)}`;
    const denied = await refusal(produce('java-txn-other', otherId));
    expect(denied).toMatchObject({ type: JAVA_TXN_DENIED });
    expect(denialsOf('java-txn-other')).toContainEqual(expect.objectContaining({ resourceType: 'transactionalId', resourceName: otherId }));
    expectGaveUpPromptly('java-txn-other', denied.ms);
    // Only the committed transaction's records (and its commit markers) reached the topic.
    const [written] = Object.values(await brokerRecordCounts([topic]));
    expect(written).toBe(COUNT + 3);
  });
});

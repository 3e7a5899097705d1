import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { type DescribeTopicPartitionsRequestCursor, defaultDescribeTopicPartitionsRequest } from '../../src/protocol/generated/messages/DescribeTopicPartitionsRequest.js';
import type { DescribeTopicPartitionsResponse } from '../../src/protocol/generated/messages/DescribeTopicPartitionsResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { runJavaClient } from '../support/interop-clients.js';
import { type TestProxy, startTestProxy } from '../integration/helpers/proxy.js';
import { createTopic } from '../integration/helpers/topics.js';

const run = randomUUID().slice(0, 8);
const topic = (suffix: string) => `dtp-${run}-${suffix}`;

/** In Kafka's order, the describable topics (prefix grants on a*, c*, e*) between denied ones. */
const PARTITIONS: Record<string, number> = { a1: 2, b1: 3, c1: 1, c2: 3, d1: 1, e1: 2, f1: 2 };
const ALLOWED = ['a1', 'c1', 'c2', 'e1'].map(topic);
const DENIED = ['b1', 'd1', 'f1'].map(topic);

// Cluster Describe only for the DescribeCluster request Java's describeTopics sends first: the
// proxy's DescribeCluster rule asks for it (Kafka 3.9 does not). It grants no topic.
const POLICY = `
roles:
  describer:
    - { topics: ["${topic('a')}*", "${topic('c')}*", "${topic('e')}*"], operations: [describe] }
    - { cluster: true, operations: [describe] }
bindings:
  ANONYMOUS: [describer]
`;

type Cursor = DescribeTopicPartitionsRequestCursor | null;

interface Page {
  body: DescribeTopicPartitionsResponse;
  frame: Buffer;
}

/** Every partition the describable topics have, in the order a complete walk must return them. */
const allowedPartitions = () => ALLOWED.flatMap((name) => Array.from({ length: PARTITIONS[name.slice(-2)] }, (_, p) => `${name}:${p}`));

/** Fails naming the denied topic if any response's bytes carry its name anywhere. */
function expectNoDeniedName(pages: Page[], denied = DENIED): void {
  for (const { frame } of pages) {
    for (const name of denied) expect(frame.includes(Buffer.from(name)), `${name} in a response`).toBe(false);
  }
}

/** The response without its size and correlation id: two of these are equal when the answers are the same. */
const answerBytes = (page: Page) => page.frame.subarray(8);

describe('DescribeTopicPartitions paging through the proxy', () => {
  let tp: TestProxy;
  let conn: KafkaConnection;

  const describeTopics = async (names: string[], cursor: Cursor, responsePartitionLimit = 1): Promise<Page> => {
    const request = { ...defaultDescribeTopicPartitionsRequest(), topics: names.map((name) => ({ name })), responsePartitionLimit, cursor };
    const { body, frame } = await conn.request<DescribeTopicPartitionsResponse>(API_KEYS.DescribeTopicPartitions, 0, request);
    return { body, frame };
  };

  /** Follows nextCursor from `cursor` until the broker says there is no more, as a client pages; fails if it never ends. */
  const walk = async (names: string[], cursor: Cursor = null): Promise<Page[]> => {
    const pages: Page[] = [];
    do {
      const page = await describeTopics(names, cursor);
      pages.push(page);
      cursor = page.body.nextCursor;
      expect(pages.length, 'the walk did not end').toBeLessThan(50);
    } while (cursor !== null);
    return pages;
  };

  /** "topic:partition" for every partition described without error, in response order. */
  const describedPartitions = (pages: Page[]) =>
    pages.flatMap((p) => p.body.topics.filter((t) => t.errorCode === 0).flatMap((t) => t.partitions.map((part) => `${t.name}:${part.partitionIndex}`)));

  beforeAll(async () => {
    await Promise.all(Object.entries(PARTITIONS).map(([suffix, numPartitions]) => createTopic({ topic: topic(suffix), numPartitions, replicationFactor: inject('kafka').brokers.length })));
    tp = await startTestProxy({ policy: POLICY });
    conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
  });

  afterAll(async () => {
    conn?.close();
    await tp?.stop();
  });

  describe('listing every topic', () => {
    it('walks one partition per page over exactly the describable topics, in order, and never names a denied one', async () => {
      const pages = await walk([]);
      expect(describedPartitions(pages)).toEqual(allowedPartitions());
      for (const { body } of pages) {
        expect(body.topics.reduce((n, t) => n + t.partitions.length, 0)).toBeLessThanOrEqual(1);
        for (const t of body.topics) expect(t.errorCode).toBe(0);
        if (body.nextCursor) expect(ALLOWED).toContain(body.nextCursor.topicName);
      }
      expectNoDeniedName(pages);
    });

    it('starts after a denied cursor topic as after a missing one, so the cursor cannot probe for topics', async () => {
      const afterDenied = await walk([], { topicName: topic('b1'), partitionIndex: 2 });
      const afterMissing = await walk([], { topicName: topic('b0-missing'), partitionIndex: 2 });
      expect(describedPartitions(afterDenied)).toEqual(allowedPartitions().filter((p) => p >= topic('c')));
      expect(afterDenied.map(answerBytes)).toEqual(afterMissing.map(answerBytes));
      expectNoDeniedName(afterDenied);
    });

    it('answers an empty last page for a cursor after every describable topic', async () => {
      for (const cursor of [{ topicName: topic('f1'), partitionIndex: 1 }, { topicName: topic('e2-missing'), partitionIndex: 0 }]) {
        const page = await describeTopics([], cursor);
        expect(page.body.topics.filter((t) => t.name?.startsWith(`dtp-${run}`))).toEqual([]);
        expect(page.body.nextCursor).toBeNull();
        expectNoDeniedName([page]);
      }
    });

    it('continues inside a describable topic from the cursor partition', async () => {
      const pages = await walk([], { topicName: topic('c2'), partitionIndex: 1 });
      expect(describedPartitions(pages)).toEqual([`${topic('c2')}:1`, `${topic('c2')}:2`, `${topic('e1')}:0`, `${topic('e1')}:1`]);
    });

    it('refuses a negative cursor partition with an empty answer, as Kafka does', async () => {
      const page = await describeTopics([], { topicName: topic('b1'), partitionIndex: -1 });
      expect(page.body.topics).toEqual([]);
      expect(page.body.nextCursor).toBeNull();
    });

    it('serves a large page in one answer', async () => {
      const page = await describeTopics([], { topicName: `dtp-${run}`, partitionIndex: 0 }, 2000);
      expect(describedPartitions([page])).toEqual(allowedPartitions());
      expect(page.body.nextCursor).toBeNull();
      expectNoDeniedName([page]);
    });
  });

  describe('naming topics', () => {
    const named = [topic('f1'), topic('a1'), topic('b1'), topic('c2'), topic('d1'), topic('e1'), topic('zz-missing')];

    it('walks the describable ones, gives each denied one 29 once and nothing else, and never puts one in the cursor', async () => {
      const pages = await walk(named);
      expect(describedPartitions(pages)).toEqual(allowedPartitions().filter((p) => !p.startsWith(topic('c1'))));
      const errors = pages.flatMap((p) => p.body.topics.filter((t) => t.errorCode !== 0));
      expect(errors.map((t) => [t.name, t.errorCode]).sort()).toEqual([...DENIED.map((name) => [name, 29]), [topic('zz-missing'), 29]].sort());
      for (const t of errors) expect([t.topicId, t.partitions, t.isInternal]).toEqual([ZERO_UUID, [], false]);
      for (const { body } of pages) if (body.nextCursor) expect(ALLOWED).toContain(body.nextCursor.topicName);
    });

    it('answers a denied topic as a missing one: its existence and partitions stay hidden', async () => {
      const denied = await describeTopics([topic('b1'), topic('c1')], null, 10);
      const missing = await describeTopics([topic('b0-missing'), topic('c1')], null, 10);
      const entry = (page: Page, name: string) => page.body.topics.find((t) => t.name === name);
      expect(entry(denied, topic('b1'))).toEqual({ ...entry(missing, topic('b0-missing')), name: topic('b1') });
      expect(entry(denied, topic('b1'))?.errorCode).toBe(29);
    });

    it('starts at the next describable topic when the cursor names a denied one', async () => {
      const pages = await walk(named, { topicName: topic('b1'), partitionIndex: 2 });
      expect(describedPartitions(pages)).toEqual(allowedPartitions().filter((p) => p >= topic('c2')));
      for (const { body } of pages) if (body.nextCursor) expect(ALLOWED).toContain(body.nextCursor.topicName);
      expect(pages.flatMap((p) => p.body.topics).filter((t) => t.name === topic('b1'))).toHaveLength(1);
    });

    it('refuses, as Kafka does, a cursor naming none of the named topics or a negative partition: 42 on each, nothing described', async () => {
      const cursors = [
        { topicName: topic('zzz'), partitionIndex: 0 },
        { topicName: topic('a0'), partitionIndex: 0 },
        { topicName: topic('c1'), partitionIndex: 0 },
        { topicName: topic('a1'), partitionIndex: -1 },
        { topicName: topic('b1'), partitionIndex: -5 },
      ];
      for (const cursor of cursors) {
        const page = await describeTopics(named, cursor, 10);
        expect(page.body.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual(named.map((name) => [name, 42, 0]));
        expect(page.body.nextCursor).toBeNull();
      }
    });
  });

  it("lets Java's admin client page through describeTopics one partition at a time, with the denied topics refused", async () => {
    const names = ['a1', 'b1', 'c2', 'd1', 'e1'].map(topic);
    const result = await runJavaClient<{ topics: Record<string, unknown> }>(['describe-topics', tp.bootstrap, names.join(','), '--partition-limit', '1']);
    expect(result.topics).toEqual({
      [topic('a1')]: { partitions: [0, 1] },
      [topic('b1')]: { error: 'TOPIC_AUTHORIZATION_FAILED' },
      [topic('c2')]: { partitions: [0, 1, 2] },
      [topic('d1')]: { error: 'TOPIC_AUTHORIZATION_FAILED' },
      [topic('e1')]: { partitions: [0, 1] },
    });
  });

  it('keeps the connection and the proxy serving after every hostile cursor', async () => {
    const page = await describeTopics([topic('a1')], null, 10);
    expect(describedPartitions([page])).toEqual([`${topic('a1')}:0`, `${topic('a1')}:1`]);
  });
});

import { randomUUID } from 'node:crypto';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { createKafkaClient, setLogger } from 'kafka-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic } from './helpers/topics.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';

const quiet = () => {};
setLogger({ debug: quiet, info: quiet, warn: quiet, error: quiet });

describe('consumer groups through the proxy', () => {
  let tp: TestProxy;
  let kafka: Kafka;

  beforeAll(async () => {
    tp = await startTestProxy();
    kafka = new Kafka({ clientId: 'group-test', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING });
  });

  afterAll(async () => {
    await tp?.stop();
  });

  async function committedTotal(groupId: string, topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return t.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    } finally {
      await admin.disconnect();
    }
  }

  async function produce(topic: string, from: number, count: number): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` })) });
    await producer.disconnect();
  }

  it('kafkajs: 3 members share 6 partitions, rebalance when one leaves, and commit every offset', async () => {
    const topic = `group-kafkajs-${randomUUID().slice(0, 8)}`;
    const groupId = `g-${topic}`;
    await createTopic({ topic, numPartitions: 6, replicationFactor: 3 });
    const consumedBy = new Map<string, number>();
    const assignments = new Map<number, number[]>();
    const members: Consumer[] = [];
    for (let m = 0; m < 3; m++) {
      const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 500 });
      c.on(c.events.GROUP_JOIN, (e) => assignments.set(m, e.payload.memberAssignment[topic] ?? []));
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => void consumedBy.set(String(message.value), m) });
      members.push(c);
    }
    await expect
      .poll(() => [...assignments.values()].filter((p) => p.length === 2).length, { timeout: 30_000 })
      .toBe(3);

    await produce(topic, 0, 60);
    await expect.poll(() => consumedBy.size, { timeout: 30_000 }).toBe(60);
    expect(new Set(consumedBy.values()).size).toBe(3);

    await members[2].disconnect();
    await expect
      .poll(() => (assignments.get(0)?.length ?? 0) + (assignments.get(1)?.length ?? 0), { timeout: 30_000 })
      .toBe(6);
    await produce(topic, 60, 60);
    await expect.poll(() => consumedBy.size, { timeout: 30_000 }).toBe(120);
    expect([...consumedBy.entries()].filter(([v]) => Number(v.slice(1)) >= 60).every(([, m]) => m !== 2)).toBe(true);

    await expect.poll(() => committedTotal(groupId, topic), { timeout: 30_000 }).toBe(120);
    await Promise.all(members.slice(0, 2).map((c) => c.disconnect()));
  });

  it('kafka-ts: 3 members consume everything once and commit their offsets', async () => {
    const topic = `group-kafkats-${randomUUID().slice(0, 8)}`;
    const groupId = `g-${topic}`;
    await createTopic({ topic, numPartitions: 6, replicationFactor: 3 });
    const [host, port] = tp.bootstrap.split(':');
    const client = createKafkaClient({ clientId: 'group-test-kafka-ts', bootstrapServers: [{ host, port: Number(port) }] });
    const seen = new Map<string, number>();
    const consumers = await Promise.all(
      [0, 1, 2].map((m) =>
        client.startConsumer({
          groupId,
          topics: [topic],
          fromTimestamp: -2n,
          maxWaitMs: 100,
          onBatch: async (batch) => batch.forEach((msg) => seen.set(String(msg.value), (seen.get(String(msg.value)) ?? 0) + 1)),
        }),
      ),
    );
    await produce(topic, 0, 90);
    await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(90);
    await Promise.all(consumers.map((c) => c.close()));
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(await committedTotal(groupId, topic)).toBe(90);
  });
});

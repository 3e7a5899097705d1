import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaClient, setLogger } from 'kafka-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaCluster, startKafkaCluster } from '../../scripts/kafka/cluster.js';
import { RecordingRelay } from '../support/recording-relay.js';
import { apisSeen, decodeRecordedTraffic } from '../support/traffic-check.js';

const quiet = () => {};
setLogger({ debug: quiet, info: quiet, warn: quiet, error: quiet });

/**
 * Real client sessions through a recording relay in front of a single broker (which advertises
 * the relay, so clients never bypass it): every frame either way must decode cleanly.
 */
describe('real client traffic decodes frame by frame', () => {
  let cluster: KafkaCluster;
  let relay: RecordingRelay;

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      brokers: 1,
      advertisedPort: async (broker) => {
        relay = await RecordingRelay.start(broker.host, broker.port);
        return relay.port;
      },
    });
  });

  afterAll(async () => {
    await relay?.stop();
    await cluster?.stop();
  });

  it('kafkajs: admin, producer (acks all and acks 0), consumer group with commits', async () => {
    const topic = `traffic-kafkajs-${randomUUID().slice(0, 8)}`;
    const kafka = new Kafka({ clientId: 'traffic-kafkajs', brokers: [`127.0.0.1:${relay.port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.send({ topic, acks: 0, messages: [{ value: 'fire-and-forget' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(String(message.value)) });
    await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(31);
    await consumer.disconnect();

    const kafkajsTraffic = relay.exchanges.filter((e) => e.request.includes('traffic-kafkajs'));
    expect(apisSeen(kafkajsTraffic)).toEqual(expect.arrayContaining(['Produce v7', 'Fetch v11', 'JoinGroup v5', 'SyncGroup v3', 'OffsetCommit v5', 'FindCoordinator v2', 'CreateTopics v3']));
    expect(decodeRecordedTraffic(kafkajsTraffic)).toEqual([]);
  });

  it('kafka-ts: producer and consumer group at the newest flexible versions', async () => {
    const topic = `traffic-kafkats-${randomUUID().slice(0, 8)}`;
    const kafka = createKafkaClient({ clientId: 'traffic-kafka-ts', bootstrapServers: [{ host: '127.0.0.1', port: relay.port }] });
    const admin = new Kafka({ clientId: 'traffic-setup', brokers: [`127.0.0.1:${relay.port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();

    const producer = kafka.createProducer({});
    await producer.send(Array.from({ length: 20 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
    await producer.close();

    const seen = new Set<string>();
    const consumer = await kafka.startConsumer({
      groupId: `g-${topic}`,
      topics: [topic],
      fromTimestamp: -2n,
      maxWaitMs: 100,
      onBatch: async (batch) => batch.forEach((m) => seen.add(String(m.value))),
    });
    await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(20);
    await consumer.close();

    const kafkaTsTraffic = relay.exchanges.filter((e) => e.request.includes('traffic-kafka-ts'));
    const seenApis = apisSeen(kafkaTsTraffic);
    expect(seenApis.some((a) => /^Produce v(9|1\d)$/.test(a)), seenApis.join(', ')).toBe(true);
    expect(seenApis.some((a) => /^Fetch v1[3-9]$/.test(a)), seenApis.join(', ')).toBe(true);
    expect(decodeRecordedTraffic(kafkaTsTraffic)).toEqual([]);
  });
});

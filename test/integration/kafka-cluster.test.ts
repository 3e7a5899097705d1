import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { startKafkaCluster } from '../../scripts/kafka/cluster.js';
import { startBroker, stopBroker } from './helpers/kafka-control.js';
import { createTopic } from './helpers/topics.js';

const { bootstrapServers, brokers } = inject('kafka');

describe('shared Kafka cluster (global setup)', () => {
  it('replicates a 6-partition topic over 3 brokers and round-trips messages', async () => {
    const kafka = new Kafka({ clientId: 'harness-test', brokers: bootstrapServers, logLevel: logLevel.NOTHING });
    const topic = `harness-${Date.now()}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    // A short fetch wait: disconnect() waits for the in-flight fetch (5 s by default).
    const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 200 });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual(brokers.map((b) => b.nodeId).sort());

      await createTopic({ topic, numPartitions: 6, replicationFactor: 3 });
      const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      expect(metadata.partitions).toHaveLength(6);
      for (const partition of metadata.partitions) expect(partition.replicas).toHaveLength(3);
      expect(new Set(metadata.partitions.map((p) => p.leader)).size).toBeGreaterThan(1);

      const sent = Array.from({ length: 60 }, (_, i) => `message-${i}`);
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ key: `key-${i}`, value })) });

      const received: string[] = [];
      const partitionsSeen = new Set<number>();
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const allReceived = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            received.push(message.value!.toString());
            partitionsSeen.add(partition);
            if (received.length === sent.length) resolve();
          },
        });
      });
      await allReceived;
      expect(received.sort()).toEqual([...sent].sort());
      expect(partitionsSeen.size).toBeGreaterThan(1);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

describe('broker control channel', () => {
  it('stops a broker and restarts it with the same address', async () => {
    const admin = new Kafka({ clientId: 'harness-control-test', brokers: bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    const liveNodeIds = async () => (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort();
    await admin.connect();
    try {
      await stopBroker(3);
      // A controlled shutdown fences the broker at once; the survivors' metadata follows within moments.
      await expect.poll(liveNodeIds, { timeout: 10_000 }).toEqual([1, 2]);
    } finally {
      await startBroker(3);
      await admin.disconnect();
    }
    const restarted = new Kafka({ clientId: 'harness-control-test', brokers: [bootstrapServers[2]], logLevel: logLevel.NOTHING }).admin();
    await restarted.connect();
    try {
      expect((await restarted.describeCluster()).brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    } finally {
      await restarted.disconnect();
    }
  });
});

describe('startKafkaCluster failure path', () => {
  it('rejects with the broker log tail when a listener port is taken', async () => {
    const blocker = await listen();
    const controller = await listen();
    const busyPort = (blocker.address() as AddressInfo).port;
    const controllerPort = (controller.address() as AddressInfo).port;
    await close(controller);
    try {
      const outcome = await startKafkaCluster({
        brokers: 1,
        serverProperties: {
          listeners: `PLAINTEXT://127.0.0.1:${busyPort},CONTROLLER://127.0.0.1:${controllerPort}`,
          'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
        },
      }).then(
        async (cluster) => cluster.stop(),
        (err: Error) => err,
      );
      expect(outcome).toBeInstanceOf(Error);
      const error = outcome as Error;
      expect(error.message).toMatch(/Kafka node 1 .* before it started/);
      expect(error.message).toMatch(/last 40 lines of .*server\.log/);
      expect(error.message).toContain(`Socket server failed to bind to 127.0.0.1:${busyPort}: Address already in use`);
    } finally {
      await close(blocker);
    }
  });
});

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaClient, setLogger } from 'kafka-ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import { readApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import { defaultDescribeClusterRequest } from '../../src/protocol/generated/messages/DescribeClusterRequest.js';
import type { DescribeClusterResponse } from '../../src/protocol/generated/messages/DescribeClusterResponse.js';
import { defaultFindCoordinatorRequest } from '../../src/protocol/generated/messages/FindCoordinatorRequest.js';
import type { FindCoordinatorResponse } from '../../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { CLIENT_API_RANGES } from '../../src/proxy/client-apis.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { createTopic } from './helpers/topics.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';

const quiet = () => {};
setLogger({ debug: quiet, info: quiet, warn: quiet, error: quiet });

const kafka = inject('kafka');
const realPorts = new Set(kafka.brokers.map((b) => b.port));

describe('transparent proxy in front of a 3-broker cluster', () => {
  let tp: TestProxy;
  let client: Kafka;
  let proxyPorts: Set<number>;

  beforeAll(async () => {
    tp = await startTestProxy();
    proxyPorts = new Set([tp.bootstrapPort, ...tp.brokerPorts.values()]);
    client = new Kafka({ clientId: 'proxy-test-kafkajs', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING });
  });

  afterAll(async () => {
    await tp?.stop();
  });

  it('kafkajs produces and consumes across partitions led by different brokers', async () => {
    const topic = `proxy-kafkajs-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 6, replicationFactor: 3 });
    const admin = client.admin();
    await admin.connect();
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    expect(new Set(meta.partitions.map((p) => p.leader)).size).toBeGreaterThan(1);

    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 120 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Map<string, number>();
    const partitions = new Set<number>();
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        seen.set(String(message.value), partition);
        partitions.add(partition);
      },
    });
    await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(120);
    await consumer.disconnect();
    expect(partitions.size).toBe(6);
  });

  it('kafka-ts (newest flexible versions) produces and consumes through the proxy', async () => {
    const topic = `proxy-kafkats-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 3, replicationFactor: 3 });
    const [host, port] = tp.bootstrap.split(':');
    const kts = createKafkaClient({ clientId: 'proxy-test-kafka-ts', bootstrapServers: [{ host, port: Number(port) }] });
    const producer = kts.createProducer({});
    await producer.send(Array.from({ length: 30 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
    await producer.close();
    const seen = new Set<string>();
    const consumer = await kts.startConsumer({
      groupId: `g-${topic}`,
      topics: [topic],
      fromTimestamp: -2n,
      maxWaitMs: 100,
      onBatch: async (batch) => batch.forEach((m) => seen.add(String(m.value))),
    });
    await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(30);
    await consumer.close();
  });

  it('Metadata, FindCoordinator and DescribeCluster name only proxy addresses, at every version', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    try {
      for (let v = CLIENT_API_RANGES[API_KEYS.Metadata]!.minVersion; v <= 12; v++) {
        // Every topic: an empty list at v0, null from v1.
        const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, v, { ...defaultMetadataRequest(), topics: v === 0 ? [] : null });
        expect(md.leftover).toBe(0);
        expect(md.body.brokers.length, `Metadata v${v}`).toBe(kafka.brokers.length);
        for (const b of md.body.brokers) {
          expect(b.host, `Metadata v${v}`).toBe('127.0.0.1');
          expect(proxyPorts.has(b.port), `Metadata v${v} port ${b.port}`).toBe(true);
          expect(b.port).toBe(tp.brokerPorts.get(b.nodeId));
        }
      }
      for (let v = 0; v <= 6; v++) {
        const req = { ...defaultFindCoordinatorRequest(), key: 'proxy-addr-group', coordinatorKeys: ['proxy-addr-group'] };
        const lookup = () => conn.request<FindCoordinatorResponse>(API_KEYS.FindCoordinator, v, req);
        const errorOf = (r: FindCoordinatorResponse) => (v >= 4 ? r.coordinators[0].errorCode : r.errorCode);
        await expect.poll(async () => errorOf((await lookup()).body), { timeout: 30_000 }).toBe(0);
        const found = (await lookup()).body;
        const port = v >= 4 ? found.coordinators[0].port : found.port;
        expect(proxyPorts.has(port), `FindCoordinator v${v} port ${port}`).toBe(true);
        expect(realPorts.has(port)).toBe(false);
      }
      for (let v = 0; v <= 1; v++) {
        const dc = await conn.request<DescribeClusterResponse>(API_KEYS.DescribeCluster, v, defaultDescribeClusterRequest());
        expect(dc.body.brokers.map((b) => b.port).sort(), `DescribeCluster v${v}`).toEqual([...tp.brokerPorts.values()].sort());
      }
    } finally {
      conn.close();
    }
    const admin = client.admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    expect(cluster.brokers.every((b) => proxyPorts.has(b.port) && !realPorts.has(b.port))).toBe(true);
  });

  it('ApiVersions lists what both the proxy and the brokers serve', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    try {
      const res = await conn.request<ApiVersionsResponse>(API_KEYS.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
      const byKey = new Map(res.body.apiKeys.map((k) => [k.apiKey, k]));
      expect(byKey.get(API_KEYS.Produce)).toMatchObject({ minVersion: 0, maxVersion: 11 });
      expect(byKey.get(API_KEYS.Fetch)?.maxVersion).toBe(15);
      expect(byKey.has(API_KEYS.WriteTxnMarkers)).toBe(false);
      expect(byKey.has(API_KEYS.ShareFetch)).toBe(false);
    } finally {
      conn.close();
    }
  });

  it('answers ApiVersions at an unknown version with a v0 UNSUPPORTED_VERSION list, as a broker does', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    try {
      const frame = await conn.sendRaw(API_KEYS.ApiVersions, 99, Buffer.from([0x02, 0x78, 0x02, 0x31, 0x00]));
      const r = new Reader(frame, 4);
      readResponseHeader(r, API_KEYS.ApiVersions, 0);
      const body = readApiVersionsResponse(r, 0);
      expect(body.errorCode).toBe(35);
      expect(body.apiKeys.find((k) => k.apiKey === API_KEYS.ApiVersions)).toMatchObject({ maxVersion: 4 });
    } finally {
      conn.close();
    }
  });

  it('handles acks=0 produce (no response) pipelined with acknowledged ones', async () => {
    const topic = `proxy-acks0-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 1, replicationFactor: 3 });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, acks: 0, messages: [{ value: 'a0-1' }] });
    await producer.send({ topic, acks: 0, messages: [{ value: 'a0-2' }] });
    await producer.send({ topic, acks: -1, messages: [{ value: 'acked' }] });
    await producer.disconnect();
    const admin = client.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets[0].high).toBe('3');
  });
});

import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { startBroker, stopBroker } from './helpers/kafka-control.js';
import { createTopic } from './helpers/topics.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';

const kafka = inject('kafka');

async function leaderOf(client: Kafka, topic: string, partition = 0): Promise<number> {
  const admin = client.admin();
  await admin.connect();
  try {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    return meta.partitions.find((p) => p.partitionId === partition)!.leader;
  } finally {
    await admin.disconnect();
  }
}

function fetchRequest(topic: string, maxWaitMs: number, maxBytes: number) {
  const req = defaultFetchRequest();
  req.maxWaitMs = maxWaitMs;
  req.minBytes = 1;
  req.maxBytes = maxBytes;
  req.topics = [{ ...defaultFetchRequestFetchTopic(), topic, partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset: 0n, partitionMaxBytes: maxBytes }] }];
  return req;
}

describe('proxy resilience', () => {
  const proxies: TestProxy[] = [];
  const start = async (...args: Parameters<typeof startTestProxy>) => {
    const tp = await startTestProxy(...args);
    proxies.push(tp);
    return tp;
  };

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('clients carry on through the proxy when the leader broker stops mid-run', async () => {
    const tp = await start();
    const client = new Kafka({ clientId: 'failover-test', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200 } });
    const topic = `failover-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 1, replicationFactor: 3 });
    const victim = await leaderOf(client, topic);

    const producer = client.producer();
    await producer.connect();
    const consumer = client.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(String(message.value)) });

    const acked: string[] = [];
    const send = async (value: string) => {
      await producer.send({ topic, acks: -1, messages: [{ value }] });
      acked.push(value);
    };
    for (let i = 0; i < 10; i++) await send(`before-${i}`);
    await stopBroker(victim);
    try {
      for (let i = 0; i < 10; i++) await send(`after-${i}`);
      expect(await leaderOf(client, topic)).not.toBe(victim);
      await expect.poll(() => acked.every((v) => seen.has(v)), { timeout: 60_000 }).toBe(true);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await startBroker(victim);
    }
    expect(acked).toHaveLength(20);
    expect(tp.logs.some((l) => l.msg === 'connection closed' && String(l.reason).startsWith('broker'))).toBe(true);
  });

  it('on shutdown, stops accepting and lets an in-flight request finish before closing', async () => {
    const tp = await start();
    const client = new Kafka({ clientId: 'shutdown-test', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING });
    const topic = `shutdown-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 1, replicationFactor: 3 });
    const leader = await leaderOf(client, topic);
    const conn = await KafkaConnection.connect('127.0.0.1', tp.brokerPorts.get(leader)!);
    // An empty partition: the broker holds the Fetch for its full wait time.
    const fetching = conn.request<FetchResponse>(API_KEYS.Fetch, 12, fetchRequest(topic, 1500, 1 << 20));
    await new Promise((r) => setTimeout(r, 200));
    const stopped = tp.proxy.stop(10_000);
    await expect(KafkaConnection.connect('127.0.0.1', tp.bootstrapPort, 2000)).rejects.toThrow();
    const res = await fetching;
    expect(res.body.responses[0].partitions[0].errorCode).toBe(0);
    await stopped;
    await expect.poll(() => conn.closedReason, { timeout: 5000 }).toBe('connection closed by the peer');
    conn.close();
  });

  it('a client that stops reading slows its broker reads instead of filling memory', async () => {
    const tp = await start();
    const client = new Kafka({ clientId: 'backpressure-test', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING });
    const topic = `backpressure-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'max.message.bytes', value: String(2 << 20) }] });
    const producer = client.producer();
    await producer.connect();
    const value = Buffer.alloc(200 * 1024, 0x61);
    for (let i = 0; i < 10; i++) await producer.send({ topic, messages: Array.from({ length: 10 }, () => ({ value })) });
    await producer.disconnect();
    const leader = await leaderOf(client, topic);

    const frame = requestFrame(API_KEYS.Fetch, 12, 1, 'slow-reader', fetchRequest(topic, 100, 64 << 20));

    let received = 0;
    const socket = connect({ host: '127.0.0.1', port: tp.brokerPorts.get(leader)! });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.pause();
    socket.write(frame);
    await new Promise((r) => setTimeout(r, 2000));
    const held = tp.proxy.listeners[0].bufferedBytes;
    expect(held).toBeLessThan(4 << 20);

    const total = await new Promise<number>((resolve) => {
      let expected = -1;
      socket.on('data', (d: Buffer) => {
        if (expected < 0) expected = d.readInt32BE(0) + 4;
        received += d.length;
        if (received >= expected) resolve(expected);
      });
      socket.resume();
    });
    socket.destroy();
    expect(total).toBeGreaterThan(19 << 20);
    expect(received).toBe(total);
  });

  it('a broker that stops reading stops the proxy reading its client, instead of filling memory', async () => {
    // A real broker behind a link that stalls: connections made once `stalled` is set are accepted and never read.
    const [host, port] = kafka.bootstrapServers[0].split(':');
    let stalled = false;
    const server = createServer((socket) => {
      if (stalled) {
        socket.pause();
        return;
      }
      const broker = connect({ host, port: Number(port) });
      socket.pipe(broker).pipe(socket);
      socket.on('error', () => broker.destroy()).on('close', () => broker.destroy());
      broker.on('error', () => socket.destroy()).on('close', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tp = await start({ bootstrapServers: [`127.0.0.1:${(server.address() as AddressInfo).port}`] });
    stalled = true;
    const client = connect({ host: '127.0.0.1', port: tp.bootstrapPort });
    try {
      await once(client, 'connect');
      // acks=0: no answer is owed, so nothing but the broker's side can slow this client down.
      const produce = defaultProduceRequest();
      produce.topicData = [{ name: 'stalled', partitionData: [{ index: 0, records: Buffer.alloc(1 << 20, 0x61) }], _unknownTaggedFields: undefined }];
      for (let i = 0; i < 64; i++) client.write(requestFrame(API_KEYS.Produce, 9, i, 'stalled-broker', produce));
      // Once the kernel's socket buffers are full the proxy stops reading: what it holds, and what the client could not send, stop changing.
      const state = () => `${tp.proxy.listeners[0].bufferedBytes}/${client.writableLength}`;
      let last = '';
      await expect.poll(() => (last === (last = state()) ? 'settled' : 'moving'), { timeout: 20_000, interval: 500 }).toBe('settled');
      expect(tp.proxy.listeners[0].bufferedBytes).toBeLessThan(8 << 20);
      expect(client.writableLength).toBeGreaterThan(16 << 20);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('closes a connection that stays idle past the idle timeout', async () => {
    const tp = await start({ limits: { idleTimeoutMs: 1000 } });
    const closedAfter = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const socket = connect({ host: '127.0.0.1', port: tp.bootstrapPort });
      socket.on('close', () => resolve(Date.now() - t0));
      socket.on('error', () => {});
    });
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(10_000);
    expect(tp.logs.some((l) => l.reason === 'idle timeout')).toBe(true);
  });

  it('bootstrap connections fail over when the first bootstrap server is down', async () => {
    const tp = await start();
    const first = kafka.brokers[0].nodeId;
    await stopBroker(first);
    try {
      const client = new Kafka({ clientId: 'bootstrap-failover', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING });
      const admin = client.admin();
      await admin.connect();
      const topics = await admin.listTopics();
      await admin.disconnect();
      expect(Array.isArray(topics)).toBe(true);
      expect(tp.logs.some((l) => l.msg === 'broker unreachable; trying the next bootstrap server')).toBe(true);
    } finally {
      await startBroker(first);
    }
  });
});

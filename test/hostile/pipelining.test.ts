import { randomUUID } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/messages/ListOffsetsResponse.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { type TestProxy, startTestProxy } from '../integration/helpers/proxy.js';
import { createTopic } from '../integration/helpers/topics.js';
import { type PipelinedRequest, type PipelinedResponse, sendPipelined } from './helpers/pipelined-client.js';
import { allTopicsMetadata, listOffsets } from './helpers/requests.js';

const run = randomUUID().slice(0, 8);
const allowed = `pipe-ok-${run}`;
const secret = `pipe-secret-${run}`;

/** Connections on an `authentication: none` listener are ANONYMOUS: a tenant with no credential at all. */
const POLICY = `
roles:
  tenant:
    - { topics: ["pipe-ok-*"], operations: [read, write] }
bindings:
  ANONYMOUS: [tenant]
`;



function fetchOf(topics: string[], maxBytes: number): PipelinedRequest {
  return {
    apiKey: API_KEYS.Fetch,
    version: 12,
    body: {
      ...defaultFetchRequest(),
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes,
      topics: topics.map((topic) => ({ ...defaultFetchRequestFetchTopic(), topic, partitions: [{ ...defaultFetchRequestFetchPartition(), partitionMaxBytes: maxBytes }] })),
    },
  };
}

/** What a broker with ACLs guarantees a pipelining client: answers in request order, every one. */
function expectInOrder(responses: PipelinedResponse[], count: number): void {
  expect(responses.map((r) => r.correlationId)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe('pipelined requests against an enforcing listener', () => {
  let tp: TestProxy;
  let witness: ReturnType<Kafka['admin']>;
  let proxyPorts: Set<number>;
  let leaderPort: number;

  beforeAll(async () => {
    const replicas = inject('kafka').brokers.length;
    await createTopic({ topic: allowed, numPartitions: 1, replicationFactor: replicas });
    await createTopic({ topic: secret, numPartitions: 1, replicationFactor: replicas });
    tp = await startTestProxy({ policy: POLICY, mode: 'enforce' });
    proxyPorts = new Set([tp.bootstrapPort, ...tp.brokerPorts.values()]);
    const [host, port] = inject('kafka').bootstrapServers[0].split(':');
    const direct = await KafkaConnection.connect(host, Number(port));
    const md = await direct.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name: allowed }] });
    direct.close();
    leaderPort = tp.brokerPorts.get(md.body.topics[0].partitions[0].leaderId)!;
    witness = new Kafka({ clientId: 'pipeline-witness', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await witness.connect();
  });

  afterAll(async () => {
    await witness?.disconnect();
    await tp?.stop();
  });

  it('never streams a filtered Metadata raw behind a pass-through response: 300 pipelined [ListOffsets, Metadata] pairs', async () => {
    const requests = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? listOffsets(allowed) : allTopicsMetadata));
    for (const slices of [1, 7]) {
      const responses = await sendPipelined(tp.bootstrapPort, requests, { slices });
      expectInOrder(responses, requests.length);
      const secretBytes = Buffer.from(secret);
      for (const [i, r] of responses.entries()) {
        expect(r.frame.includes(secretBytes), `response ${i + 1} names the denied topic`).toBe(false);
        if (i % 2 === 1) {
          const md = r.body as MetadataResponse;
          expect(md.topics.map((t) => t.name)).toEqual([allowed]);
          expect(md.brokers.every((b) => proxyPorts.has(b.port)), 'a real broker address reached the client').toBe(true);
        }
      }
    }
    expect((await witness.describeCluster()).brokers.length).toBe(inject('kafka').brokers.length);
  });

  it('keeps the proxy own answers in their place between forwarded ones: 900 pipelined [allowed, denied, Metadata]', async () => {
    const requests = Array.from({ length: 900 }, (_, i) => [listOffsets(allowed), listOffsets(secret), allTopicsMetadata][i % 3]);
    const responses = await sendPipelined(tp.bootstrapPort, requests, { slices: 13 });
    expectInOrder(responses, requests.length);
    for (const [i, r] of responses.entries()) {
      if (i % 3 === 1) {
        const denied = r.body as ListOffsetsResponse;
        expect(denied.topics[0].name).toBe(secret);
        expect(denied.topics[0].partitions[0].errorCode).toBe(29);
      }
      if (i % 3 === 2) expect((r.body as MetadataResponse).topics.map((t) => t.name)).toEqual([allowed]);
    }
  });

  describe('a partially denied Fetch', () => {
    const RECORD = 100 * 1024;
    const RECORDS = 160;

    beforeAll(async () => {
      const producer = new Kafka({ clientId: 'pipeline-fill', brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      const value = Buffer.alloc(RECORD, 7);
      for (let i = 0; i < RECORDS; i += 8) {
        await producer.send({ topic: allowed, acks: -1, messages: Array.from({ length: 8 }, () => ({ value })) });
      }
      await producer.disconnect();
    });

    it('comes back with the denied topic refused first and the allowed records intact', async () => {
      const [response] = await sendPipelined(leaderPort, [fetchOf([allowed, secret], 1024 * 1024)]);
      const body = response.body as FetchResponse;
      expect(body.responses.map((t) => [t.topic, t.partitions[0].errorCode])).toEqual([
        [secret, 29],
        [allowed, 0],
      ]);
      expect(body.responses[1].partitions[0].records!.length).toBeGreaterThan(RECORD);
    });

    it('costs memory by what the client reads, not by the response: 16 clients that never read', async () => {
      const sockets: Socket[] = [];
      const frame = requestFrame(API_KEYS.Fetch, 12, 1, 'slow-reader', fetchOf([allowed, secret], 64 * 1024 * 1024).body);
      const rssBefore = process.memoryUsage().rss;
      for (let i = 0; i < 16; i++) {
        const socket = connect({ host: '127.0.0.1', port: leaderPort });
        socket.pause();
        socket.on('error', () => {});
        socket.write(frame);
        sockets.push(socket);
      }
      // Wait until the proxy holds steady: the broker has sent what backpressure lets through.
      const listener = tp.proxy.listeners[0];
      let peak = 0;
      let last = -1;
      for (let steady = 0, polls = 0; steady < 8 && polls < 120; polls++) {
        await sleep(250);
        peak = Math.max(peak, process.memoryUsage().rss - rssBefore);
        const buffered = listener.bufferedBytes;
        steady = buffered === last && buffered > 0 ? steady + 1 : 0;
        last = buffered;
      }
      // Held whole, 16 responses of ~16 MiB would add well over 256 MiB.
      expect(peak).toBeLessThan(160 * 1024 * 1024);
      for (const s of sockets) s.destroy();
      expect((await witness.describeCluster()).brokers.length).toBe(inject('kafka').brokers.length);
    });
  });

  it('counts answers a client never takes against the held-response budget: a client that never reads cannot park megabytes of answers', async () => {
    const small = await startTestProxy({ policy: POLICY, mode: 'enforce', limits: { maxHeldResponseBytes: 1024 * 1024 } });
    try {
      // Metadata naming 60,000 long denied names: the proxy's own answer (~11 MB) is larger than the
      // request and than what the kernel's socket buffers take on its way.
      const names = Array.from({ length: 60_000 }, (_, i) => `pipe-denied-${run}-${i}-${'x'.repeat(160)}`);
      const frame = requestFrame(API_KEYS.Metadata, 12, 1, 'never-reads', { ...defaultMetadataRequest(), topics: names.map((name) => ({ name, topicId: ZERO_UUID })) });
      const sockets: Socket[] = [];
      for (let i = 0; i < 4; i++) {
        const socket = connect({ host: '127.0.0.1', port: small.bootstrapPort });
        socket.pause();
        socket.on('error', () => {});
        socket.write(frame);
        sockets.push(socket);
      }
      // The clients never read, so they never see the close: wait for the proxy's side.
      const exhausted = () => small.logs.filter((l) => l.reason === 'held-response budget exhausted').length;
      for (let waited = 0; exhausted() < 4 && waited < 60_000; waited += 100) await sleep(100);
      expect(exhausted()).toBe(4);
      expect(small.proxy.listeners[0].connectionCount).toBe(0);
      for (const socket of sockets) socket.destroy();
      const refused = await small.proxy.metrics.registry.getSingleMetricAsString('kafka_proxy_connections_refused_total');
      expect(refused).toContain('reason="held-responses"} 4');
      const witness = await sendPipelined(small.bootstrapPort, [listOffsets(allowed)]);
      expect((witness[0].body as ListOffsetsResponse).topics[0].name).toBe(allowed);
    } finally {
      await small.stop();
    }
  });
});

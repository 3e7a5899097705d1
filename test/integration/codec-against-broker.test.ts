import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import { readApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import type { CreateTopicsResponse } from '../../src/protocol/generated/messages/CreateTopicsResponse.js';
import { defaultCreateTopicsRequest, defaultCreateTopicsRequestCreatableTopic } from '../../src/protocol/generated/messages/CreateTopicsRequest.js';
import { defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { defaultFindCoordinatorRequest } from '../../src/protocol/generated/messages/FindCoordinatorRequest.js';
import type { FindCoordinatorResponse } from '../../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { defaultMetadataRequest, defaultMetadataRequestTopic } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { recordBatch } from '../support/record-batch.js';

const kafka = inject('kafka');
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const UNSUPPORTED_VERSION = 35;

describe('generated codecs against a real Kafka 3.9 broker', () => {
  const topic = `codec-crosscheck-${randomUUID().slice(0, 8)}`;
  const clients = new Map<number, KafkaConnection>();
  let bootstrap: KafkaConnection;

  async function clientFor(nodeId: number): Promise<KafkaConnection> {
    let c = clients.get(nodeId);
    if (!c) {
      const broker = kafka.brokers.find((b) => b.nodeId === nodeId)!;
      c = await KafkaConnection.connect(broker.host, broker.port);
      clients.set(nodeId, c);
    }
    return c;
  }

  async function metadataFrom(client: KafkaConnection, version: number, names: string[]): Promise<MetadataResponse> {
    const req = defaultMetadataRequest();
    req.topics = names.map((name) => ({ ...defaultMetadataRequestTopic(), name }));
    const res = await client.request<MetadataResponse>(API_KEYS.Metadata, version, req);
    expect(res.leftover, `Metadata v${version} leftover bytes`).toBe(0);
    return res.body;
  }

  const metadata = (version: number, names: string[]) => metadataFrom(bootstrap, version, names);

  function topicReady(md: MetadataResponse, name: string): boolean {
    const t = md.topics.find((x) => x.name === name);
    return t !== undefined && t.errorCode === 0 && t.partitions.length === 3 && t.partitions.every((p) => p.leaderId > 0);
  }

  beforeAll(async () => {
    bootstrap = await clientFor(kafka.brokers[0].nodeId);
  });

  afterAll(() => {
    for (const c of clients.values()) c.close();
  });

  it('ApiVersions v0-v4: every answer decodes completely and lists what a 3.9 broker serves', async () => {
    for (let version = 0; version <= 4; version++) {
      const res = await bootstrap.request<ApiVersionsResponse>(API_KEYS.ApiVersions, version, {
        clientSoftwareName: 'kafka-auth-proxy-tests',
        clientSoftwareVersion: '0.1.0',
      });
      expect(res.leftover, `v${version}`).toBe(0);
      expect(res.body.errorCode).toBe(0);
      const produce = res.body.apiKeys.find((k) => k.apiKey === API_KEYS.Produce);
      expect(produce).toMatchObject({ minVersion: 0, maxVersion: 11 });
      for (const k of res.body.apiKeys) {
        expect(APIS[k.apiKey], `broker offers unknown API ${k.apiKey}`).toBeDefined();
        expect(k.maxVersion, `API ${k.apiKey}`).toBeLessThanOrEqual(APIS[k.apiKey].maxVersion);
      }
    }
  });

  it('ApiVersions at a version the broker does not know: a v0 UNSUPPORTED_VERSION answer that still lists versions', async () => {
    // Body of a flexible ApiVersions request: two compact strings and an empty tagged-field section.
    const body = Buffer.from([0x02, 0x78, 0x02, 0x31, 0x00]);
    const frame = await bootstrap.sendRaw(API_KEYS.ApiVersions, 127, body);
    const r = new Reader(frame, 4);
    readResponseHeader(r, API_KEYS.ApiVersions, 0);
    const res = readApiVersionsResponse(r, 0);
    expect(r.remaining).toBe(0);
    expect(res.errorCode).toBe(UNSUPPORTED_VERSION);
    expect(res.apiKeys.find((k) => k.apiKey === API_KEYS.ApiVersions)).toMatchObject({ minVersion: 0, maxVersion: 4 });
  });

  it('CreateTopics v7 creates a topic; Metadata v0-v12 all decode it with its partitions and brokers', async () => {
    const create = defaultCreateTopicsRequest();
    create.timeoutMs = 30_000;
    create.topics = [{ ...defaultCreateTopicsRequestCreatableTopic(), name: topic, numPartitions: 3, replicationFactor: 3 }];
    const created = await bootstrap.request<CreateTopicsResponse>(API_KEYS.CreateTopics, 7, create);
    expect(created.leftover).toBe(0);
    expect(created.body.topics[0]).toMatchObject({ name: topic, errorCode: 0, numPartitions: 3, replicationFactor: 3 });
    expect(created.body.topics[0].topicId).not.toBe(ZERO_UUID);

    // Each broker learns of a new topic from the metadata log on its own schedule.
    for (const broker of kafka.brokers) {
      const c = await clientFor(broker.nodeId);
      await expect.poll(async () => topicReady(await metadataFrom(c, 12, [topic]), topic), { timeout: 30_000 }).toBe(true);
    }
    const ids = new Set<string>();
    for (let version = 0; version <= 12; version++) {
      const md = await metadata(version, [topic]);
      expect(md.brokers.map((b) => b.port).sort(), `v${version}`).toEqual(kafka.brokers.map((b) => b.port).sort());
      const t = md.topics.find((x) => x.name === topic)!;
      expect(t.errorCode, `v${version}`).toBe(0);
      expect(t.partitions.map((p) => p.partitionIndex).sort(), `v${version}`).toEqual([0, 1, 2]);
      if (version >= 10) ids.add(t.topicId);
    }
    expect([...ids]).toEqual([created.body.topics[0].topicId]);
  });

  it('Produce v3 and v11 write record batches that Fetch v4, v12 and v17 read back', async () => {
    const md = await metadata(12, [topic]);
    const t = md.topics.find((x) => x.name === topic)!;
    const leader = await clientFor(t.partitions.find((p) => p.partitionIndex === 0)!.leaderId);

    const produced: bigint[] = [];
    for (const [version, value] of [[3, 'written-by-produce-v3'], [11, 'written-by-produce-v11']] as const) {
      const req = defaultProduceRequest();
      req.acks = -1;
      req.timeoutMs = 10_000;
      req.topicData = [{ name: topic, partitionData: [{ index: 0, records: recordBatch([value]) }] }];
      const res = await leader.request<ProduceResponse>(API_KEYS.Produce, version, req);
      expect(res.leftover, `Produce v${version}`).toBe(0);
      const p = res.body.responses[0].partitionResponses[0];
      expect(p.errorCode, `Produce v${version}`).toBe(0);
      produced.push(p.baseOffset);
    }
    expect(produced[1]).toBe(produced[0] + 1n);

    for (const version of [4, 12, 17]) {
      const req = defaultFetchRequest();
      req.maxWaitMs = 100;
      req.maxBytes = 1 << 20;
      req.isolationLevel = 0;
      req.topics = [
        {
          ...defaultFetchRequestFetchTopic(),
          topic,
          topicId: t.topicId,
          partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset: produced[0], partitionMaxBytes: 1 << 20 }],
        },
      ];
      const res = await leader.request<FetchResponse>(API_KEYS.Fetch, version, req);
      expect(res.leftover, `Fetch v${version}`).toBe(0);
      const topicResponse = res.body.responses[0];
      if (version >= 13) expect(topicResponse.topicId).toBe(t.topicId);
      else expect(topicResponse.topic).toBe(topic);
      const p = topicResponse.partitions[0];
      expect(p.errorCode, `Fetch v${version}`).toBe(0);
      expect(p.highWatermark).toBe(produced[1] + 1n);
      const records = p.records!.toString('latin1');
      expect(records).toContain('written-by-produce-v3');
      expect(records).toContain('written-by-produce-v11');
      // Records are a view of the response frame, not a copy.
      expect(p.records!.buffer).toBe(res.frame.buffer);
    }
  });

  it('FindCoordinator v0-v6 names one of the brokers as the group coordinator', async () => {
    const ports = kafka.brokers.map((b) => b.port);
    for (let version = 0; version <= 6; version++) {
      const req = defaultFindCoordinatorRequest();
      req.key = 'codec-crosscheck-group';
      req.keyType = 0;
      req.coordinatorKeys = ['codec-crosscheck-group'];
      const lookup = () => bootstrap.request<FindCoordinatorResponse>(API_KEYS.FindCoordinator, version, req);
      // The offsets topic is created on first use; until then the answer is COORDINATOR_NOT_AVAILABLE.
      const errorOf = (r: { body: FindCoordinatorResponse }) => (version >= 4 ? r.body.coordinators[0].errorCode : r.body.errorCode);
      await expect.poll(async () => errorOf(await lookup()), { timeout: 30_000 }).toBe(0);
      const r = await lookup();
      expect(r.leftover, `v${version}`).toBe(0);
      const port = version >= 4 ? r.body.coordinators[0].port : r.body.port;
      expect(ports, `v${version}`).toContain(port);
    }
  });
});

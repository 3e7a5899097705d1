import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import type { ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { type ConsumeResult, type ProduceResult, javaOAuthArgs, runGoClient, runJavaClient } from '../support/interop-clients.js';
import { recordBatch } from '../support/record-batch.js';
import { fetchPartitionZero } from './helpers/fetch-requests.js';
import { oauthListener, startTestIssuer, testClientCredentials } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { authenticatedConnection } from './helpers/raw-sasl.js';
import { createTopic } from './helpers/topics.js';

const run = randomUUID().slice(0, 8);
/** fsess-a-*: readable and writable; fsess-b-*: neither. */
const topicA = `fsess-a-${run}`;
const topicB = `fsess-b-${run}`;

const POLICY = `
roles:
  orders-writer:
    - { topics: ["fsess-a-*"], operations: [write] }
  orders-reader:
    - { topics: ["fsess-a-*"], operations: [read] }
    - { groups: ["fsess-g-*"], operations: [read] }
`;

/** The broker's node leading partition 0 of `topic`, asked directly. */
async function leaderOf(topic: string): Promise<number> {
  const [host, port] = inject('kafka').bootstrapServers[0].split(':');
  const conn = await KafkaConnection.connect(host, Number(port));
  try {
    const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name: topic }] });
    return md.body.topics[0].partitions[0].leaderId;
  } finally {
    conn.close();
  }
}

/** A Fetch v12 (topics by name) of partition 0 of each topic named, in the session and epoch given. */
const fetchIn = (sessionId: number, sessionEpoch: number, topics: string[], offset = 0n) =>
  fetchPartitionZero(
    topics.map((topic) => ({ topic })),
    { sessionId, sessionEpoch },
    offset,
  );

/** Topic -> error code and whether records came, for each partition 0 in the answer. */
function byTopic(resp: FetchResponse): Record<string, { errorCode: number; records: boolean }> {
  return Object.fromEntries(resp.responses.map((t) => [t.topic, { errorCode: t.partitions[0].errorCode, records: (t.partitions[0].records?.length ?? 0) > 0 }]));
}

async function fetchSessionCount(tp: TestProxy, event: string): Promise<number> {
  const metric = await tp.proxy.metrics.registry.getSingleMetric('kafka_proxy_fetch_sessions_total')!.get();
  return metric.values.filter((v) => v.labels.event === event).reduce((n, v) => n + v.value, 0);
}

describe('fetch sessions (KIP-227) on an enforcing OAUTHBEARER listener', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { policy: POLICY }));
    const replicas = inject('kafka').brokers.map((b) => b.nodeId);
    for (const topic of [topicA, topicB]) await createTopic({ topic, replicaAssignment: [{ partition: 0, replicas }] });
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it('keeps the broker session: incremental fetches bring new records, a denied topic stays out with 29, another principal cannot use it, a reload that revokes ends it', async () => {
    const port = tp.brokerPorts.get(await leaderOf(topicA))!;
    expect(await leaderOf(topicB)).toBe(await leaderOf(topicA));
    const reader = await authenticatedConnection(port, await issuer.mint({ subject: 'fsess-reader', roles: ['orders-reader'] }));
    const writer = await authenticatedConnection(port, await issuer.mint({ subject: 'fsess-writer', roles: ['orders-writer'] }));
    const stranger = await authenticatedConnection(port, await issuer.mint({ subject: 'fsess-stranger', roles: [] }));
    const produce = async (value: string) => {
      const resp = await writer.request<ProduceResponse>(API_KEYS.Produce, 9, {
        ...defaultProduceRequest(),
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: topicA, partitionData: [{ index: 0, records: recordBatch([value]) }] }],
      });
      expect(resp.body.responses[0].partitionResponses[0].errorCode).toBe(0);
      return resp.body.responses[0].partitionResponses[0].baseOffset;
    };
    try {
      await produce('first');
      const opened = (await reader.request<FetchResponse>(API_KEYS.Fetch, 12, fetchIn(0, 0, [topicA, topicB]))).body;
      expect(opened.errorCode).toBe(0);
      // The real broker opened a session, and the proxy let it.
      expect(opened.sessionId).not.toBe(0);
      expect(byTopic(opened)).toEqual({ [topicA]: { errorCode: 0, records: true }, [topicB]: { errorCode: 29, records: false } });

      // Nothing named: the broker fetches the session's partitions; the denied one is answered again.
      const offset = await produce('second');
      const incremental = (await reader.request<FetchResponse>(API_KEYS.Fetch, 12, fetchIn(opened.sessionId, 1, [topicA], offset))).body;
      expect(incremental).toMatchObject({ errorCode: 0, sessionId: opened.sessionId });
      expect(byTopic(incremental)).toEqual({ [topicA]: { errorCode: 0, records: true }, [topicB]: { errorCode: 29, records: false } });
      const third = await produce('third');
      const quiet = (await reader.request<FetchResponse>(API_KEYS.Fetch, 12, fetchIn(opened.sessionId, 2, []))).body;
      expect(quiet.sessionId).toBe(opened.sessionId);
      expect(byTopic(quiet)[topicA]).toEqual({ errorCode: 0, records: true });
      expect(third).toBeGreaterThan(offset);

      // The broker would serve the session to anyone with its id and epoch; the proxy does not.
      const hijack = (await stranger.request<FetchResponse>(API_KEYS.Fetch, 12, fetchIn(opened.sessionId, 3, []))).body;
      expect(hijack).toMatchObject({ errorCode: 70, responses: [] });
      expect(await fetchSessionCount(tp, 'incremental')).toBeGreaterThanOrEqual(2);

      writeFileSync(tp.policyFile!, POLICY.replace('["fsess-a-*"], operations: [read]', '["fsess-none"], operations: [read]'));
      await tp.proxy.reload();
      const afterReload = (await reader.request<FetchResponse>(API_KEYS.Fetch, 12, fetchIn(opened.sessionId, 3, []))).body;
      expect(afterReload).toMatchObject({ errorCode: 70, responses: [] });
      const full = (await reader.request<FetchResponse>(API_KEYS.Fetch, 12, fetchIn(0, 0, [topicA]))).body;
      expect(byTopic(full)).toEqual({ [topicA]: { errorCode: 29, records: false } });
      expect(await fetchSessionCount(tp, 'ended')).toBe(1);
    } finally {
      writeFileSync(tp.policyFile!, POLICY);
      await tp.proxy.reload();
      for (const c of [reader, writer, stranger]) c.close();
    }
  });

  it('Java kafka-clients and franz-go consume a 12-partition topic in a group with incremental fetches', async () => {
    const topic = `fsess-a-clients-${run}`;
    await createTopic({ topic, numPartitions: 12, replicationFactor: 3 });
    const partitions = Array.from({ length: 12 }, (_, i) => i);
    expect(await runJavaClient<ProduceResult>(['produce', tp.bootstrap, topic, '120', ...javaOAuthArgs(testClientCredentials(issuer, 'svc-writer'))])).toEqual({
      produced: 120,
      partitions,
    });
    const before = await fetchSessionCount(tp, 'incremental');
    const refusedBefore = await fetchSessionCount(tp, 'refused');
    const java = await runJavaClient<ConsumeResult>(['consume', tp.bootstrap, topic, `fsess-g-java-${run}`, '120', ...javaOAuthArgs(testClientCredentials(issuer, 'svc-reader'))]);
    expect(java).toEqual({ consumed: 120, partitions });
    const afterJava = await fetchSessionCount(tp, 'incremental');
    expect(afterJava).toBeGreaterThan(before);
    const token = await issuer.mint({ subject: 'svc-reader', roles: ['orders-reader'] });
    const go = await runGoClient<ConsumeResult>(['consume', tp.bootstrap, topic, `fsess-g-go-${run}`, '120', '--sasl', 'oauthbearer'], { env: { KAFKA_OAUTH_TOKEN: token } });
    expect(go).toEqual({ consumed: 120, partitions });
    expect(await fetchSessionCount(tp, 'incremental')).toBeGreaterThan(afterJava);
    expect(await fetchSessionCount(tp, 'refused')).toBe(refusedBefore);
  });
});

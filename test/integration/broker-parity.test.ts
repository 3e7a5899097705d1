import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeniedResource } from '../../src/authz/request-denials.js';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import type { ApiVersionsResponse } from '../../src/protocol/generated/messages/ApiVersionsResponse.js';
import type { DescribeClusterResponse } from '../../src/protocol/generated/messages/DescribeClusterResponse.js';
import type { DescribeQuorumResponse } from '../../src/protocol/generated/messages/DescribeQuorumResponse.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { authenticatedConnection } from './helpers/raw-sasl.js';
import { createTopic } from './helpers/topics.js';

/**
 * The proxy against the broker it fronts: the same APIs and versions (but for the differences
 * docs/authorization.md lists), Metadata at every version, DescribeCluster for anyone, DescribeQuorum, and
 * auto-creation refused without Create on every Metadata version, logged and counted.
 */

const TOPIC_AUTHORIZATION_FAILED = 29;
const CLUSTER_AUTHORIZATION_FAILED = 31;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const NOT_REQUESTED = -2147483648;

const POLICY = `
roles:
  reader:
    - { topics: ["parity-*"], operations: [read] }
  creator:
    - { topics: ["parity-*"], operations: [read, create] }
  quorum-viewer:
    - { cluster: true, operations: [describe] }
`;

/**
 * The differences docs/authorization.md lists: API name -> [broker's range, proxy's range], as "0-17" or "none". A
 * row may name several APIs, with one range each or one for all.
 */
function documentedDifferences(): Map<string, [string, string]> {
  const page = readFileSync(new URL('../../docs/authorization.md', import.meta.url), 'utf8');
  const section = page.slice(page.indexOf('### APIs and versions'));
  const start = section.indexOf('| API');
  const table = section.slice(start, section.indexOf('\n\n', start));
  const rows = new Map<string, [string, string]>();
  for (const line of table.split('\n').slice(2)) {
    const [names, broker, proxy] = line.split('|').slice(1, 4).map((c) => c.trim());
    const cell = (text: string, i: number) => {
      const each = text.split(',').map((r) => r.trim());
      return each.length > 1 ? each[i] : each[0];
    };
    names.split(',').forEach((name, i) => rows.set(name.trim(), [cell(broker, i), cell(proxy, i)]));
  }
  return rows;
}

function ranges(resp: ApiVersionsResponse): Map<string, string> {
  return new Map(resp.apiKeys.map((k) => [APIS[k.apiKey]?.name ?? `api-${k.apiKey}`, `${k.minVersion}-${k.maxVersion}`]));
}

async function apiVersions(port: number, host = '127.0.0.1'): Promise<ApiVersionsResponse> {
  const conn = await KafkaConnection.connect(host, port);
  try {
    const resp = await conn.request<ApiVersionsResponse>(API_KEYS.ApiVersions, 3, { clientSoftwareName: 'parity-test', clientSoftwareVersion: '1' });
    expect(resp.body.errorCode).toBe(0);
    return resp.body;
  } finally {
    conn.close();
  }
}

/** Topics as the brokers themselves report them, not through the proxy. */
async function brokerTopics(): Promise<string[]> {
  const admin = new Kafka({ clientId: 'parity-check', brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

/** A Metadata request body at any version: v0 has no null list, v4+ says whether to create. */
const metadataRequest = (topics: string[] | null, allowAutoTopicCreation = true) => ({
  topics: topics?.map((name) => ({ name, topicId: ZERO_UUID })) ?? null,
  allowAutoTopicCreation,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
});

describe('broker parity', () => {
  const kafka = inject('kafka');
  const [firstBroker] = kafka.brokers;
  let issuer: DevIssuer;
  let plain: TestProxy;
  let secure: TestProxy;
  let existing: string;

  const token = (subject: string, roles: string[]) => issuer.mint({ subject, roles });
  const denialsOf = (principal: string) =>
    secure.logs
      .filter((l) => l.msg === 'authorization denied' && l.principal === principal)
      .flatMap((l) => (l.resources as DeniedResource[]).map((r) => ({ api: l.api, ...r })));

  beforeAll(async () => {
    issuer = await startTestIssuer();
    [plain, secure] = await Promise.all([startTestProxy(), startTestProxy(oauthListener(issuer, { policy: POLICY }))]);
    existing = `parity-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic: existing, numPartitions: 2, replicationFactor: kafka.brokers.length });
  });

  afterAll(async () => {
    await plain?.stop();
    await secure?.stop();
    await issuer?.stop();
  });

  it('offers every API and version the broker offers, but for the differences docs/authorization.md lists', async () => {
    const broker = ranges(await apiVersions(firstBroker.port));
    const listed = documentedDifferences();
    expect(listed.size, 'docs/authorization.md lists its differences').toBeGreaterThan(0);
    for (const tp of [plain, secure]) {
      const proxy = ranges(await apiVersions(tp.bootstrapPort));
      const differences = new Map<string, [string, string]>();
      for (const [api, range] of broker) if (proxy.get(api) !== range) differences.set(api, [range, proxy.get(api) ?? 'none']);
      for (const api of proxy.keys()) expect(broker.has(api), `${api} offered by the proxy but not by the broker`).toBe(true);
      expect(differences).toEqual(listed);
    }
  });

  describe('Metadata v0-v3 on a transparent listener', () => {
    it.each([0, 1, 2, 3])('v%i lists the topic with the proxy’s broker addresses', async (version) => {
      const conn = await KafkaConnection.connect('127.0.0.1', plain.bootstrapPort);
      try {
        const { body } = await conn.request<MetadataResponse>(API_KEYS.Metadata, version, metadataRequest([existing]));
        expect(body.topics).toEqual([expect.objectContaining({ name: existing, errorCode: 0 })]);
        expect(body.topics[0].partitions).toHaveLength(2);
        expect(body.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...plain.brokerPorts.values()].map((p) => `127.0.0.1:${p}`).sort());
      } finally {
        conn.close();
      }
    });
  });

  describe('Metadata v0-v3 on an enforcing listener', () => {
    it.each([0, 1, 2, 3])('v%i: a missing topic the principal may not create gets 29, is not created, and the refusal is logged', async (version) => {
      const missing = `parity-missing-v${version}-${randomUUID().slice(0, 8)}`;
      const principal = `parity-reader-v${version}`;
      const conn = await authenticatedConnection(secure.bootstrapPort, await token(principal, ['reader']));
      try {
        const { body, leftover } = await conn.request<MetadataResponse>(API_KEYS.Metadata, version, metadataRequest([existing, missing]));
        expect(leftover, 'answered in the client’s version').toBe(0);
        expect(body.topics.map((t) => [t.name, t.errorCode])).toEqual([
          [existing, 0],
          [missing, TOPIC_AUTHORIZATION_FAILED],
        ]);
        expect(body.topics[1].partitions).toEqual([]);
        expect(body.brokers.map((b) => b.port).sort()).toEqual([...secure.brokerPorts.values()].sort());
      } finally {
        conn.close();
      }
      expect(await brokerTopics()).not.toContain(missing);
      expect(denialsOf(principal)).toEqual([{ api: 'Metadata', resourceType: 'topic', resourceName: missing, operation: 'create' }]);
      const counted = await secure.proxy.metrics.registry.getSingleMetric('kafka_proxy_authorization_denials_total')!.get();
      expect(counted.values).toContainEqual(expect.objectContaining({ labels: expect.objectContaining({ api: 'Metadata', resource: 'topic' }) }));
    });

    it('v1: a principal with Create gets the topic created, as the broker would', async () => {
      const missing = `parity-created-${randomUUID().slice(0, 8)}`;
      const conn = await authenticatedConnection(secure.bootstrapPort, await token('parity-creator', ['creator']));
      try {
        const { body } = await conn.request<MetadataResponse>(API_KEYS.Metadata, 1, metadataRequest([missing]));
        // A KRaft broker asks its controller to create the topic and answers "unknown" meanwhile.
        expect(body.topics.map((t) => [t.name, t.errorCode])).toEqual([[missing, UNKNOWN_TOPIC_OR_PARTITION]]);
      } finally {
        conn.close();
      }
      await expect.poll(brokerTopics, { timeout: 15_000, interval: 200 }).toContain(missing);
    });

    it('v0: an empty list means every topic, filtered to those the principal may describe', async () => {
      const conn = await authenticatedConnection(secure.bootstrapPort, await token('parity-lister', ['reader']));
      try {
        const { body } = await conn.request<MetadataResponse>(API_KEYS.Metadata, 0, metadataRequest([]));
        const names = body.topics.map((t) => t.name!);
        expect(names).toContain(existing);
        expect(names.every((n) => n.startsWith('parity-'))).toBe(true);
      } finally {
        conn.close();
      }
    });

    it('v2: a named topic the principal may not describe gets 29 and nothing about it, never every topic', async () => {
      const hidden = `hidden-${randomUUID().slice(0, 8)}`;
      await createTopic({ topic: hidden, numPartitions: 1, replicationFactor: kafka.brokers.length });
      for (const version of [0, 2]) {
        const conn = await authenticatedConnection(secure.bootstrapPort, await token('parity-hider', ['reader']));
        try {
          const { body } = await conn.request<MetadataResponse>(API_KEYS.Metadata, version, metadataRequest([hidden]));
          expect(body.topics).toEqual([expect.objectContaining({ name: hidden, errorCode: TOPIC_AUTHORIZATION_FAILED, partitions: [] })]);
        } finally {
          conn.close();
        }
      }
    });
  });

  it('DescribeCluster answers any principal, with no authorized operations it was not granted', async () => {
    const conn = await authenticatedConnection(secure.bootstrapPort, await token('parity-no-cluster', ['reader']));
    try {
      const asked = await conn.request<DescribeClusterResponse>(API_KEYS.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
      expect(asked.body).toMatchObject({ errorCode: 0, clusterAuthorizedOperations: 0 });
      expect(asked.body.brokers.map((b) => b.port).sort()).toEqual([...secure.brokerPorts.values()].sort());
      const notAsked = await conn.request<DescribeClusterResponse>(API_KEYS.DescribeCluster, 0, { includeClusterAuthorizedOperations: false });
      expect(notAsked.body).toMatchObject({ errorCode: 0, clusterAuthorizedOperations: NOT_REQUESTED });
    } finally {
      conn.close();
    }
    expect(denialsOf('parity-no-cluster')).toEqual([]);
  });

  it('DescribeQuorum answers with Cluster Describe and is refused (31, logged) without it', async () => {
    const request = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };
    const viewer = await authenticatedConnection(secure.bootstrapPort, await token('parity-quorum', ['quorum-viewer']));
    try {
      const { body } = await viewer.request<DescribeQuorumResponse>(API_KEYS.DescribeQuorum, 2, request);
      expect(body.errorCode).toBe(0);
      expect(body.topics[0].partitions[0].leaderId).toBeGreaterThanOrEqual(0);
      expect(body.topics[0].partitions[0].currentVoters.length).toBeGreaterThan(0);
    } finally {
      viewer.close();
    }
    const other = await authenticatedConnection(secure.bootstrapPort, await token('parity-no-quorum', ['reader']));
    try {
      const { body } = await other.request<DescribeQuorumResponse>(API_KEYS.DescribeQuorum, 2, request);
      expect(body.errorCode).toBe(CLUSTER_AUTHORIZATION_FAILED);
    } finally {
      other.close();
    }
    expect(denialsOf('parity-no-quorum')).toEqual([{ api: 'DescribeQuorum', resourceType: 'cluster', resourceName: '', operation: 'describe' }]);
  });

  it('Metadata v4+ still refuses auto-creation without Create, logged as a create denial', async () => {
    const missing = `parity-missing-v12-${randomUUID().slice(0, 8)}`;
    const conn = await authenticatedConnection(secure.bootstrapPort, await token('parity-reader-v12', ['reader']));
    try {
      const { body } = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataRequest([missing]));
      expect(body.topics.map((t) => [t.name, t.errorCode])).toEqual([[missing, TOPIC_AUTHORIZATION_FAILED]]);
      // Without asking to create, a missing topic is just unknown, as on a broker.
      const { body: noCreate } = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, metadataRequest([missing], false));
      expect(noCreate.topics.map((t) => [t.name, t.errorCode])).toEqual([[missing, UNKNOWN_TOPIC_OR_PARTITION]]);
    } finally {
      conn.close();
    }
    expect(await brokerTopics()).not.toContain(missing);
    expect(denialsOf('parity-reader-v12')).toEqual([{ api: 'Metadata', resourceType: 'topic', resourceName: missing, operation: 'create' }]);
  });
});

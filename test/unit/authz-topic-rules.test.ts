import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/authz/api-rules/rule.js';
import { TOPIC_RULES } from '../../src/authz/api-rules/topic-apis.js';
import { NOT_REQUESTED } from '../../src/authz/authorized-operations.js';
import type { EnforcementMode } from '../../src/authz/denial-log.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import { type AlterConfigsRequest, defaultAlterConfigsRequest } from '../../src/protocol/generated/messages/AlterConfigsRequest.js';
import { type AlterConfigsResponse, defaultAlterConfigsResponse } from '../../src/protocol/generated/messages/AlterConfigsResponse.js';
import { type CreatePartitionsRequest, defaultCreatePartitionsRequest } from '../../src/protocol/generated/messages/CreatePartitionsRequest.js';
import { type CreatePartitionsResponse, defaultCreatePartitionsResponse } from '../../src/protocol/generated/messages/CreatePartitionsResponse.js';
import { type CreateTopicsRequest, defaultCreateTopicsRequest, defaultCreateTopicsRequestCreatableTopic } from '../../src/protocol/generated/messages/CreateTopicsRequest.js';
import {
  type CreateTopicsResponse,
  defaultCreateTopicsResponse,
  defaultCreateTopicsResponseCreatableTopicResult,
} from '../../src/protocol/generated/messages/CreateTopicsResponse.js';
import { type DeleteRecordsRequest, defaultDeleteRecordsRequest } from '../../src/protocol/generated/messages/DeleteRecordsRequest.js';
import { type DeleteRecordsResponse, defaultDeleteRecordsResponse } from '../../src/protocol/generated/messages/DeleteRecordsResponse.js';
import { type DeleteTopicsRequest, defaultDeleteTopicsRequest } from '../../src/protocol/generated/messages/DeleteTopicsRequest.js';
import {
  type DeleteTopicsResponse,
  defaultDeleteTopicsResponse,
  defaultDeleteTopicsResponseDeletableTopicResult,
} from '../../src/protocol/generated/messages/DeleteTopicsResponse.js';
import { type DescribeConfigsRequest, defaultDescribeConfigsRequest } from '../../src/protocol/generated/messages/DescribeConfigsRequest.js';
import {
  type DescribeConfigsResponse,
  defaultDescribeConfigsResponse,
  defaultDescribeConfigsResponseDescribeConfigsResourceResult,
  defaultDescribeConfigsResponseDescribeConfigsResult,
} from '../../src/protocol/generated/messages/DescribeConfigsResponse.js';
import { type DescribeProducersRequest, defaultDescribeProducersRequest } from '../../src/protocol/generated/messages/DescribeProducersRequest.js';
import {
  type DescribeProducersResponse,
  defaultDescribeProducersResponse,
  defaultDescribeProducersResponsePartitionResponse,
} from '../../src/protocol/generated/messages/DescribeProducersResponse.js';
import { type DescribeTopicPartitionsRequest, defaultDescribeTopicPartitionsRequest } from '../../src/protocol/generated/messages/DescribeTopicPartitionsRequest.js';
import {
  type DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponseTopic,
  defaultDescribeTopicPartitionsResponse,
  defaultDescribeTopicPartitionsResponsePartition,
  defaultDescribeTopicPartitionsResponseTopic,
} from '../../src/protocol/generated/messages/DescribeTopicPartitionsResponse.js';
import { type IncrementalAlterConfigsRequest, defaultIncrementalAlterConfigsRequest } from '../../src/protocol/generated/messages/IncrementalAlterConfigsRequest.js';
import { type IncrementalAlterConfigsResponse, defaultIncrementalAlterConfigsResponse } from '../../src/protocol/generated/messages/IncrementalAlterConfigsResponse.js';
import {
  type ListOffsetsRequest,
  defaultListOffsetsRequest,
  defaultListOffsetsRequestListOffsetsPartition,
  defaultListOffsetsRequestListOffsetsTopic,
} from '../../src/protocol/generated/messages/ListOffsetsRequest.js';
import {
  type ListOffsetsResponse,
  defaultListOffsetsResponse,
  defaultListOffsetsResponseListOffsetsPartitionResponse,
} from '../../src/protocol/generated/messages/ListOffsetsResponse.js';
import {
  type OffsetForLeaderEpochRequest,
  defaultOffsetForLeaderEpochRequest,
  defaultOffsetForLeaderEpochRequestOffsetForLeaderPartition,
} from '../../src/protocol/generated/messages/OffsetForLeaderEpochRequest.js';
import {
  type OffsetForLeaderEpochResponse,
  defaultOffsetForLeaderEpochResponse,
  defaultOffsetForLeaderEpochResponseEpochEndOffset,
} from '../../src/protocol/generated/messages/OffsetForLeaderEpochResponse.js';
import { answered, denialsOf, expectWritable, forwardEdit, rebuilt, UNTOUCHED } from '../support/rule-outcomes.js';
import { ruleHarness } from '../support/rule-harness.js';

// alice: Read on orders and orders-* (implies Describe); Describe and DescribeConfigs only on
// catalog; Create, Delete, Alter and AlterConfigs on scratch-*. carol may also create any topic
// (Cluster Create); dave may also describe and alter broker configs. "secret" is nobody's.
const POLICY = `
roles:
  app:
    - { topics: ["orders", "orders-*"], operations: [read] }
    - { topics: ["catalog"], operations: [describe, describe-configs] }
    - { topics: ["scratch-*"], operations: [create, delete, alter, alter-configs] }
  topic-creator:
    - { cluster: true, operations: [create] }
  broker-admin:
    - { cluster: true, operations: [alter-configs] }
bindings:
  alice: [app]
  carol: [app, topic-creator]
  dave: [app, broker-admin]
`;

/** Topic ids as the writer accepts them (22 base64url characters). */
const topicId = (n: number) => Buffer.alloc(16, n).toString('base64url');
const ID = { orders: topicId(1), scratch: topicId(2), catalog: topicId(3), secret: topicId(4), unknown: topicId(5) };

function harness(mode: EnforcementMode = 'enforce', principal = 'alice', clusterTopics?: string[]) {
  return ruleHarness(POLICY, {
    principal,
    mode,
    topicIds: { [ID.orders]: 'orders', [ID.scratch]: 'scratch-1', [ID.catalog]: 'catalog', [ID.secret]: 'secret' },
    clusterTopics,
  });
}

function authorize(apiKey: number, request: object, version: number, h = harness()): Outcome {
  return TOPIC_RULES[apiKey].authorize(request, h.ctx(version));
}

/** Every version the generated codecs support for `apiKey`. */
function versions(apiKey: number): number[] {
  const api = APIS[apiKey];
  return Array.from({ length: api.maxVersion - api.minVersion + 1 }, (_, i) => api.minVersion + i);
}

/** Runs `check` on the outcome of `request` at every version, with a fresh harness each time. */
function atEveryVersion(apiKey: number, request: object, check: (outcome: Outcome, version: number, h: ReturnType<typeof harness>) => void, only = versions(apiKey)) {
  for (const v of only) {
    const h = harness();
    const outcome = authorize(apiKey, request, v, h);
    check(outcome, v, h);
    expectWritable(apiKey, outcome, v);
  }
}

function expectAuditForward(apiKey: number, request: object, version: number, denials: string[]): void {
  const h = harness('audit');
  expect(authorize(apiKey, request, version, h)).toEqual(UNTOUCHED);
  expect(denialsOf(h)).toEqual(denials);
  expect(h.logs.every((l) => l.level === 'warn')).toBe(true);
}

describe('ListOffsets', () => {
  const key = API_KEYS.ListOffsets;
  const listOffsets = (...names: string[]): ListOffsetsRequest => ({
    ...defaultListOffsetsRequest(),
    replicaId: -1,
    isolationLevel: 1,
    topics: names.map((name) => ({
      ...defaultListOffsetsRequestListOffsetsTopic(),
      name,
      partitions: [0, 1].map((partitionIndex) => ({ ...defaultListOffsetsRequestListOffsetsPartition(), partitionIndex, timestamp: -1n })),
    })),
  });
  const codes = (resp: ListOffsetsResponse) => resp.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.offset])]);

  it('forwards topics the principal may describe', () => {
    expect(authorize(key, listOffsets('orders', 'catalog'), 9)).toEqual(UNTOUCHED);
  });

  it('answers 29 and no offset on every partition when no topic may be described', () => {
    atEveryVersion(key, listOffsets('secret', 'other'), (outcome, _v, h) => {
      expect(codes(answered<ListOffsetsResponse>(outcome))).toEqual([
        ['secret', [[0, 29, -1n], [1, 29, -1n]]],
        ['other', [[0, 29, -1n], [1, 29, -1n]]],
      ]);
      expect(denialsOf(h)).toEqual(['topic:secret:describe', 'topic:other:describe']);
    });
  });

  it('forwards the describable topics and merges 29 for the others into the broker response', () => {
    atEveryVersion(key, listOffsets('orders', 'secret'), (outcome) => {
      const { request, edit } = rebuilt<ListOffsetsRequest, ListOffsetsResponse>(outcome);
      expect(request.topics.map((t) => t.name)).toEqual(['orders']);
      expect(request).toMatchObject({ replicaId: -1, isolationLevel: 1 });
      const resp = {
        ...defaultListOffsetsResponse(),
        topics: [{ name: 'orders', partitions: [{ ...defaultListOffsetsResponseListOffsetsPartitionResponse(), partitionIndex: 0, offset: 12n }] }],
      };
      edit(resp);
      expect(codes(resp)).toEqual([
        ['orders', [[0, 0, 12n]]],
        ['secret', [[0, 29, -1n], [1, 29, -1n]]],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, listOffsets('orders', 'secret'), 9, ['topic:secret:describe']);
  });
});

describe('OffsetForLeaderEpoch', () => {
  const key = API_KEYS.OffsetForLeaderEpoch;
  const epochs = (replicaId: number, ...names: string[]): OffsetForLeaderEpochRequest => ({
    ...defaultOffsetForLeaderEpochRequest(),
    replicaId,
    topics: names.map((topic) => ({ topic, partitions: [0, 1].map((partition) => ({ ...defaultOffsetForLeaderEpochRequestOffsetForLeaderPartition(), partition, leaderEpoch: 3 })) })),
  });
  const codes = (resp: OffsetForLeaderEpochResponse) => resp.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.errorCode, p.endOffset])]);

  it('forwards a consumer asking about topics it may describe', () => {
    expect(authorize(key, epochs(-1, 'orders', 'catalog'), 4)).toEqual(UNTOUCHED);
  });

  it('answers 29 and no end offset on every partition when no topic may be described', () => {
    atEveryVersion(key, epochs(-1, 'secret'), (outcome) => {
      expect(codes(answered<OffsetForLeaderEpochResponse>(outcome))).toEqual([['secret', [[0, 29, -1n], [1, 29, -1n]]]]);
    });
  });

  it('forwards the describable topics and merges 29 for the others', () => {
    atEveryVersion(key, epochs(-1, 'secret', 'orders'), (outcome) => {
      const { request, edit } = rebuilt<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(outcome);
      expect(request.topics.map((t) => t.topic)).toEqual(['orders']);
      const resp = {
        ...defaultOffsetForLeaderEpochResponse(),
        topics: [{ topic: 'orders', partitions: [{ ...defaultOffsetForLeaderEpochResponseEpochEndOffset(), partition: 0, leaderEpoch: 3, endOffset: 99n }] }],
      };
      edit(resp);
      expect(codes(resp)).toEqual([
        ['orders', [[0, 0, 99n]]],
        ['secret', [[0, 29, -1n], [1, 29, -1n]]],
      ]);
    });
  });

  it('decides a request naming a replica id as any other, as Kafka (the id plays no part in its checks)', () => {
    for (const v of versions(key).filter((v) => v >= 3)) {
      expect(authorize(key, epochs(2, 'orders', 'catalog'), v)).toEqual(UNTOUCHED);
      const h = harness();
      const { request } = rebuilt<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>(authorize(key, epochs(2, 'orders', 'secret'), v, h));
      expect(request).toMatchObject({ replicaId: 2, topics: [{ topic: 'orders' }] });
      expect(denialsOf(h)).toEqual(['topic:secret:describe']);
    }
  });

  it('ignores the replica id before v3, where the request has none', () => {
    expect(authorize(key, epochs(2, 'orders'), 2)).toEqual(UNTOUCHED);
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, epochs(-1, 'secret'), 4, ['topic:secret:describe']);
  });
});

describe('DescribeTopicPartitions', () => {
  const key = API_KEYS.DescribeTopicPartitions;
  const ALL_BITS = 0x1ffe;
  const READ_DESCRIBE = (1 << 3) | (1 << 8);
  /** The cluster as the proxy listed it, in Kafka's order; alice may describe catalog and the orders topics. */
  const CLUSTER = ['__consumer_offsets', 'catalog', 'nope', 'orders', 'orders-1', 'orders-2', 'other', 'secret'];
  const describeTopics = (
    names: string[],
    cursor: { topicName: string; partitionIndex: number } | null = null,
    responsePartitionLimit = 100,
  ): DescribeTopicPartitionsRequest => ({
    ...defaultDescribeTopicPartitionsRequest(),
    responsePartitionLimit,
    topics: names.map((name) => ({ name })),
    cursor,
  });
  /** A topic as a broker without an authorizer describes it: with every operation allowed. */
  const described = (name: string, id: string) => ({
    ...defaultDescribeTopicPartitionsResponseTopic(),
    name,
    topicId: id,
    partitions: [{ ...defaultDescribeTopicPartitionsResponsePartition(), partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
    topicAuthorizedOperations: ALL_BITS,
  });
  const page = (topics: DescribeTopicPartitionsResponseTopic[], nextCursor: { topicName: string; partitionIndex: number } | null = null): DescribeTopicPartitionsResponse => ({
    ...defaultDescribeTopicPartitionsResponse(),
    topics,
    nextCursor,
  });
  const summary = (resp: DescribeTopicPartitionsResponse) => resp.topics.map((t) => [t.name, t.errorCode, t.topicId, t.partitions.length, t.topicAuthorizedOperations]);
  const askedFor = (request: DescribeTopicPartitionsRequest) => request.topics.map((t) => t.name);

  describe('naming topics', () => {
    it('forwards describable topics and reports their authorized operations from the policy', () => {
      const edit = forwardEdit<DescribeTopicPartitionsResponse>(authorize(key, describeTopics(['orders', 'catalog']), 0));
      const resp = page([described('orders', ID.orders), described('catalog', ID.catalog)]);
      edit(resp);
      expect(summary(resp)).toEqual([
        ['orders', 0, ID.orders, 1, READ_DESCRIBE],
        ['catalog', 0, ID.catalog, 1, (1 << 8) | (1 << 10)],
      ]);
    });

    it('leaves the field alone where the broker did not report it', () => {
      const edit = forwardEdit<DescribeTopicPartitionsResponse>(authorize(key, describeTopics(['orders']), 0));
      const resp = page([{ ...described('orders', ID.orders), topicAuthorizedOperations: NOT_REQUESTED }]);
      edit(resp);
      expect(resp.topics[0].topicAuthorizedOperations).toBe(NOT_REQUESTED);
    });

    it('answers 29 with no id and no partitions when no topic may be described, once per name', () => {
      atEveryVersion(key, describeTopics(['secret', 'other', 'secret']), (outcome) => {
        const resp = answered<DescribeTopicPartitionsResponse>(outcome);
        expect(summary(resp)).toEqual([
          ['other', 29, ZERO_UUID, 0, NOT_REQUESTED],
          ['secret', 29, ZERO_UUID, 0, NOT_REQUESTED],
        ]);
        expect(resp.nextCursor).toBeNull();
      });
    });

    it('asks the broker only about describable topics and gives denied ones 29 on the page that reaches them', () => {
      atEveryVersion(key, describeTopics(['secret', 'orders', 'aaa-secret']), (outcome) => {
        const { request, edit } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(outcome);
        expect(askedFor(request)).toEqual(['orders']);
        expect(request.responsePartitionLimit).toBe(100);
        // The broker stops inside "orders": "secret" sorts after it and comes on a later page.
        const middle = page([described('orders', ID.orders)], { topicName: 'orders', partitionIndex: 1 });
        edit(middle);
        expect(summary(middle)).toEqual([
          ['orders', 0, ID.orders, 1, READ_DESCRIBE],
          ['aaa-secret', 29, ZERO_UUID, 0, NOT_REQUESTED],
        ]);
        expect(middle.nextCursor).toEqual({ topicName: 'orders', partitionIndex: 1 });
        const last = page([described('orders', ID.orders)]);
        edit(last);
        expect(last.topics.map((t) => [t.name, t.errorCode])).toEqual([
          ['orders', 0],
          ['aaa-secret', 29],
          ['secret', 29],
        ]);
      });
    });

    it('looks only at topics from the cursor on, as Kafka does: earlier pages answered the others', () => {
      const h = harness();
      const outcome = authorize(key, describeTopics(['orders-2', 'orders-1', 'secret', 'aaa-secret'], { topicName: 'orders-2', partitionIndex: 4 }), 0, h);
      const { request, edit } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(outcome);
      expect(askedFor(request)).toEqual(['orders-2']);
      expect(request.cursor).toEqual({ topicName: 'orders-2', partitionIndex: 4 });
      const resp = page([described('orders-2', ID.orders)]);
      edit(resp);
      expect(resp.topics.map((t) => [t.name, t.errorCode])).toEqual([
        ['orders-2', 0],
        ['secret', 29],
      ]);
      expect(denialsOf(h)).toEqual(['topic:secret:describe']);
    });

    it('starts at the next describable topic when the cursor names a denied one, without passing it on', () => {
      const outcome = authorize(key, describeTopics(['catalog', 'nope', 'orders'], { topicName: 'nope', partitionIndex: 5 }), 0);
      const { request, edit } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(outcome);
      expect(askedFor(request)).toEqual(['orders']);
      expect(request.cursor).toBeNull();
      const resp = page([described('orders', ID.orders)]);
      edit(resp);
      expect(resp.topics.map((t) => [t.name, t.errorCode])).toEqual([
        ['orders', 0],
        ['nope', 29],
      ]);
    });

    it('refuses, as Kafka does, a cursor that names none of the topics, or a negative partition: 42 on every named topic', () => {
      const requests = [
        describeTopics(['orders', 'secret'], { topicName: 'zzz', partitionIndex: 0 }),
        describeTopics(['orders', 'secret'], { topicName: 'aaa', partitionIndex: 0 }),
        describeTopics(['orders', 'secret'], { topicName: 'orders', partitionIndex: -1 }),
        describeTopics(['orders', 'secret'], { topicName: 'secret', partitionIndex: -1 }),
      ];
      for (const request of requests) {
        const h = harness();
        const resp = answered<DescribeTopicPartitionsResponse>(authorize(key, request, 0, h));
        expect(summary(resp)).toEqual([
          ['orders', 42, ZERO_UUID, 0, NOT_REQUESTED],
          ['secret', 42, ZERO_UUID, 0, NOT_REQUESTED],
        ]);
        expect(resp.nextCursor).toBeNull();
        expect(h.logs).toEqual([]);
      }
    });

    it('forwards in audit mode, logs, and still reports the policy operations', () => {
      const h = harness('audit');
      const edit = forwardEdit<DescribeTopicPartitionsResponse>(authorize(key, describeTopics(['secret']), 0, h));
      expect(denialsOf(h)).toEqual(['topic:secret:describe']);
      const resp = page([described('secret', ID.secret)]);
      edit(resp);
      expect(resp.topics[0].topicAuthorizedOperations).toBe(0);
    });
  });

  describe('listing every topic', () => {
    const listing = (request: DescribeTopicPartitionsRequest, h = harness('enforce', 'alice', CLUSTER)) => authorize(key, request, 0, h);

    it('needs the cluster listed first, and only when no topic is named', () => {
      const rule = TOPIC_RULES[key];
      expect(rule.listsTopics?.(describeTopics([]))).toBe(true);
      expect(rule.listsTopics?.(describeTopics(['orders']))).toBe(false);
    });

    it('asks the broker by name for one page of describable topics, logging nothing', () => {
      const h = harness('enforce', 'alice', CLUSTER);
      const { request, edit } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(listing(describeTopics([], null, 1), h));
      // One partition per page: the broker describes "catalog" and names "orders" as its next cursor.
      expect(askedFor(request)).toEqual(['catalog', 'orders']);
      expect(request.cursor).toBeNull();
      const resp = page([described('catalog', ID.catalog)], { topicName: 'orders', partitionIndex: 0 });
      edit(resp);
      expect(summary(resp)).toEqual([['catalog', 0, ID.catalog, 1, (1 << 8) | (1 << 10)]]);
      expect(resp.nextCursor).toEqual({ topicName: 'orders', partitionIndex: 0 });
      expect(h.logs).toEqual([]);
    });

    it('asks for every describable topic when the page holds them all, and never for a denied one', () => {
      const { request } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(listing(describeTopics([], null, 2000)));
      expect(askedFor(request)).toEqual(['catalog', 'orders', 'orders-1', 'orders-2']);
    });

    it('continues from a describable cursor topic at the cursor partition', () => {
      const { request } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(listing(describeTopics([], { topicName: 'orders-1', partitionIndex: 2 })));
      expect(askedFor(request)).toEqual(['orders-1', 'orders-2']);
      expect(request.cursor).toEqual({ topicName: 'orders-1', partitionIndex: 2 });
    });

    it('starts at the next describable topic when the cursor names a denied or missing one', () => {
      for (const topicName of ['nope', 'catalof', 'catalog-0', 'orders-0']) {
        const { request } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(listing(describeTopics([], { topicName, partitionIndex: 7 })));
        expect(askedFor(request)[0] > topicName, topicName).toBe(true);
        expect(request.cursor, topicName).toBeNull();
      }
    });

    it('ends the walk with an empty page when nothing describable follows the cursor', () => {
      for (const topicName of ['other', 'secret', 'orders-3', 'zzz']) {
        const resp = answered<DescribeTopicPartitionsResponse>(listing(describeTopics([], { topicName, partitionIndex: 0 })));
        expect(resp).toEqual(defaultDescribeTopicPartitionsResponse());
      }
    });

    it('refuses a negative cursor partition with an empty answer, as Kafka does', () => {
      const resp = answered<DescribeTopicPartitionsResponse>(listing(describeTopics([], { topicName: 'orders', partitionIndex: -1 })));
      expect(resp).toEqual(defaultDescribeTopicPartitionsResponse());
    });

    it('leaves out topics deleted since the listing, and points the cursor past the page it asked for', () => {
      const { request, edit } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(listing(describeTopics([], null, 1)));
      expect(askedFor(request)).toEqual(['catalog', 'orders']);
      const resp = page([{ ...defaultDescribeTopicPartitionsResponseTopic(), name: 'catalog', errorCode: 3 }, described('orders', ID.orders)]);
      edit(resp);
      expect(resp.topics.map((t) => t.name)).toEqual(['orders']);
      expect(resp.nextCursor).toEqual({ topicName: 'orders-1', partitionIndex: 0 });
    });

    it('ends the connection when the cluster could not be listed', () => {
      expect(() => authorize(key, describeTopics([]), 0, harness())).toThrow(/could not be listed/);
    });

    it('lists every topic in audit mode', () => {
      const { request } = rebuilt<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>(listing(describeTopics([]), harness('audit', 'alice', CLUSTER)));
      expect(askedFor(request)).toEqual(CLUSTER);
    });
  });
});

describe('CreateTopics', () => {
  const key = API_KEYS.CreateTopics;
  const create = (...names: string[]): CreateTopicsRequest => ({
    ...defaultCreateTopicsRequest(),
    timeoutMs: 30_000,
    validateOnly: true,
    topics: names.map((name) => ({ ...defaultCreateTopicsRequestCreatableTopic(), name, numPartitions: 3, replicationFactor: 1 })),
  });
  const summary = (resp: CreateTopicsResponse) => resp.topics.map((t) => [t.name, t.errorCode, t.errorMessage, t.topicId]);

  it('forwards topics the principal may create', () => {
    expect(authorize(key, create('scratch-1', 'scratch-2'), 7)).toEqual(UNTOUCHED);
  });

  it('forwards any topic for a principal with Cluster Create, without logging', () => {
    const h = harness('enforce', 'carol');
    // Before v5 the response has no configs to hide.
    expect(authorize(key, create('secret', 'orders-new'), 4, h)).toEqual(UNTOUCHED);
    expect(authorize(key, create('secret', 'orders-new'), 7, h).action).toBe('forward');
    expect(h.logs).toEqual([]);
  });

  it('hides a created topic\'s configs, partitions and replication factor (v5+) without Topic DescribeConfigs, as a KRaft controller', () => {
    const h = harness('enforce', 'carol');
    const edit = forwardEdit<CreateTopicsResponse>(authorize(key, create('secret', 'scratch-1', 'catalog'), 7, h));
    const created = (name: string, errorCode = 0) => ({
      ...defaultCreateTopicsResponseCreatableTopicResult(),
      name,
      errorCode,
      numPartitions: 3,
      replicationFactor: 1,
      configs: [{ name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false }],
    });
    const resp = { ...defaultCreateTopicsResponse(), topics: [created('secret'), created('scratch-1'), created('catalog', 36)] };
    edit(resp);
    expect(resp.topics.map((t) => [t.name, t.topicConfigErrorCode, t.numPartitions, t.replicationFactor, t.configs?.length])).toEqual([
      ['secret', 29, -1, -1, 0],
      ['scratch-1', 0, 3, 1, 1],
      // A topic not created (here: it exists) is left as the broker answered.
      ['catalog', 0, 3, 1, 1],
    ]);
    expect(h.logs).toEqual([]);
  });

  it('leaves a name given twice, and __cluster_metadata, to the broker, which refuses them before any authorization', () => {
    const h = harness();
    const outcome = authorize(key, create('secret', 'secret', '__cluster_metadata', 'other'), 7, h);
    const { request } = rebuilt<CreateTopicsRequest, CreateTopicsResponse>(outcome);
    expect(request.topics.map((t) => t.name)).toEqual(['secret', 'secret', '__cluster_metadata']);
    expect(denialsOf(h)).toEqual(['topic:other:create']);
  });

  it('answers 29 with Kafka\'s message (where the version has one) and no topic id when nothing may be created', () => {
    atEveryVersion(key, create('secret', 'orders-new'), (outcome, _v, h) => {
      expect(summary(answered<CreateTopicsResponse>(outcome))).toEqual([
        ['secret', 29, 'Authorization failed.', ZERO_UUID],
        ['orders-new', 29, 'Authorization failed.', ZERO_UUID],
      ]);
      expect(denialsOf(h)).toEqual(['topic:secret:create', 'topic:orders-new:create']);
    });
  });

  it('forwards the creatable topics and merges 29 for the others into the broker response', () => {
    atEveryVersion(key, create('scratch-1', 'secret'), (outcome) => {
      const { request, edit } = rebuilt<CreateTopicsRequest, CreateTopicsResponse>(outcome);
      expect(request.topics.map((t) => t.name)).toEqual(['scratch-1']);
      expect(request).toMatchObject({ timeoutMs: 30_000, validateOnly: true });
      const resp = {
        ...defaultCreateTopicsResponse(),
        topics: [{ ...defaultCreateTopicsResponseCreatableTopicResult(), name: 'scratch-1', topicId: ID.scratch, errorMessage: null, numPartitions: 3 }],
      };
      edit(resp);
      expect(summary(resp)).toEqual([
        ['scratch-1', 0, null, ID.scratch],
        ['secret', 29, 'Authorization failed.', ZERO_UUID],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, create('scratch-1', 'secret'), 7, ['topic:secret:create']);
  });
});

describe('DeleteTopics', () => {
  const key = API_KEYS.DeleteTopics;
  const byNameVersions = versions(key).filter((v) => v < 6);
  const byNames = (...topicNames: string[]): DeleteTopicsRequest => ({ ...defaultDeleteTopicsRequest(), timeoutMs: 5000, topicNames });
  const byState = (...topics: { name: string | null; topicId: string }[]): DeleteTopicsRequest => ({ ...defaultDeleteTopicsRequest(), timeoutMs: 5000, topics });
  const summary = (resp: DeleteTopicsResponse) => resp.responses.map((r) => [r.name, r.topicId, r.errorCode, r.errorMessage]);
  const DENIED = 'Topic authorization failed.';

  it('forwards topics named by name that the principal may delete', () => {
    expect(authorize(key, byNames('scratch-1', 'scratch-2'), 5)).toEqual(UNTOUCHED);
    expect(authorize(key, byState({ name: 'scratch-1', topicId: ZERO_UUID }), 6)).toEqual(UNTOUCHED);
  });

  it('answers 29 for every name when nothing may be deleted (v0-5)', () => {
    atEveryVersion(
      key,
      byNames('orders', 'secret'),
      (outcome) => {
        expect(summary(answered<DeleteTopicsResponse>(outcome))).toEqual([
          ['orders', ZERO_UUID, 29, DENIED],
          ['secret', ZERO_UUID, 29, DENIED],
        ]);
      },
      byNameVersions,
    );
  });

  it('forwards the deletable names and merges 29 for the others (v0-5)', () => {
    atEveryVersion(
      key,
      byNames('scratch-1', 'orders'),
      (outcome) => {
        const { request, edit } = rebuilt<DeleteTopicsRequest, DeleteTopicsResponse>(outcome);
        expect(request.topicNames).toEqual(['scratch-1']);
        expect(request.timeoutMs).toBe(5000);
        const resp = { ...defaultDeleteTopicsResponse(), responses: [{ ...defaultDeleteTopicsResponseDeletableTopicResult(), name: 'scratch-1' }] };
        edit(resp);
        expect(summary(resp)).toEqual([
          ['scratch-1', ZERO_UUID, 0, null],
          ['orders', ZERO_UUID, 29, DENIED],
        ]);
      },
      byNameVersions,
    );
  });

  it('asks the proxy to learn the names of the topics named only by id (v6)', () => {
    const req = byState(
      { name: null, topicId: ID.scratch },
      { name: 'orders', topicId: ZERO_UUID },
      { name: null, topicId: ZERO_UUID },
      { name: null, topicId: ID.unknown },
    );
    expect(TOPIC_RULES[key].topicIds!(req, 6)).toEqual([ID.scratch, ID.unknown]);
    expect(TOPIC_RULES[key].topicIds!(byNames('orders'), 5)).toEqual([]);
  });

  it('answers v6 as a KRaft controller: ids keep their id, and their name only where it may be described; unknown ids get 100', () => {
    const h = harness();
    const outcome = authorize(
      key,
      byState(
        { name: 'secret', topicId: ZERO_UUID },
        { name: null, topicId: ID.catalog },
        { name: null, topicId: ID.secret },
        { name: null, topicId: ID.unknown },
      ),
      6,
      h,
    );
    expect(summary(answered<DeleteTopicsResponse>(outcome))).toEqual([
      ['secret', ZERO_UUID, 29, DENIED],
      ['catalog', ID.catalog, 29, DENIED],
      [null, ID.secret, 29, DENIED],
      [null, ID.unknown, 100, 'This server does not host this topic ID.'],
    ]);
    expect(denialsOf(h)).toEqual(['topic:secret:delete', 'topic:catalog:delete']);
    expectWritable(key, outcome, 6);
  });

  it('forwards the deletable v6 entries, and one naming nothing for the broker to reject, and merges the others', () => {
    const outcome = authorize(key, byState({ name: null, topicId: ID.scratch }, { name: 'orders', topicId: ZERO_UUID }, { name: null, topicId: ZERO_UUID }), 6);
    const { request, edit } = rebuilt<DeleteTopicsRequest, DeleteTopicsResponse>(outcome);
    expect(request.topics).toEqual([
      { name: null, topicId: ID.scratch },
      { name: null, topicId: ZERO_UUID },
    ]);
    expectWritable(key, outcome, 6);
    const resp = { ...defaultDeleteTopicsResponse(), responses: [{ ...defaultDeleteTopicsResponseDeletableTopicResult(), name: 'scratch-1', topicId: ID.scratch }] };
    edit(resp);
    expect(summary(resp)).toEqual([
      ['scratch-1', ID.scratch, 0, null],
      ['orders', ZERO_UUID, 29, DENIED],
    ]);
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, byNames('orders'), 5, ['topic:orders:delete']);
    expectAuditForward(key, byState({ name: null, topicId: ID.secret }), 6, ['topic:secret:delete']);
  });
});

describe('DeleteRecords', () => {
  const key = API_KEYS.DeleteRecords;
  const deleteRecords = (...names: string[]): DeleteRecordsRequest => ({
    ...defaultDeleteRecordsRequest(),
    timeoutMs: 5000,
    topics: names.map((name) => ({ name, partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, offset: 10n })) })),
  });
  const codes = (resp: DeleteRecordsResponse) => resp.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark])]);

  it('forwards topics the principal may delete from', () => {
    expect(authorize(key, deleteRecords('scratch-1'), 2)).toEqual(UNTOUCHED);
  });

  it('answers 29 with no low watermark on every partition: Read is not enough', () => {
    atEveryVersion(key, deleteRecords('orders'), (outcome) => {
      expect(codes(answered<DeleteRecordsResponse>(outcome))).toEqual([['orders', [[0, 29, -1n], [1, 29, -1n]]]]);
    });
  });

  it('forwards the deletable topics and merges 29 for the others', () => {
    atEveryVersion(key, deleteRecords('secret', 'scratch-1'), (outcome) => {
      const { request, edit } = rebuilt<DeleteRecordsRequest, DeleteRecordsResponse>(outcome);
      expect(request.topics.map((t) => t.name)).toEqual(['scratch-1']);
      const resp = { ...defaultDeleteRecordsResponse(), topics: [{ name: 'scratch-1', partitions: [{ partitionIndex: 0, lowWatermark: 10n, errorCode: 0 }] }] };
      edit(resp);
      expect(codes(resp)).toEqual([
        ['scratch-1', [[0, 0, 10n]]],
        ['secret', [[0, 29, -1n], [1, 29, -1n]]],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, deleteRecords('orders'), 2, ['topic:orders:delete']);
  });
});

describe('CreatePartitions', () => {
  const key = API_KEYS.CreatePartitions;
  const createPartitions = (...names: string[]): CreatePartitionsRequest => ({
    ...defaultCreatePartitionsRequest(),
    timeoutMs: 5000,
    topics: names.map((name) => ({ name, count: 6, assignments: null })),
  });
  const summary = (resp: CreatePartitionsResponse) => resp.results.map((r) => [r.name, r.errorCode, r.errorMessage]);

  it('forwards topics the principal may alter', () => {
    expect(authorize(key, createPartitions('scratch-1'), 3)).toEqual(UNTOUCHED);
  });

  it('answers 29 with no message when no topic may be altered', () => {
    atEveryVersion(key, createPartitions('orders', 'secret'), (outcome) => {
      expect(summary(answered<CreatePartitionsResponse>(outcome))).toEqual([
        ['orders', 29, null],
        ['secret', 29, null],
      ]);
    });
  });

  it('forwards the alterable topics and merges 29 for the others', () => {
    atEveryVersion(key, createPartitions('scratch-1', 'orders'), (outcome) => {
      const { request, edit } = rebuilt<CreatePartitionsRequest, CreatePartitionsResponse>(outcome);
      expect(request.topics).toEqual([{ name: 'scratch-1', count: 6, assignments: null }]);
      const resp = { ...defaultCreatePartitionsResponse(), results: [{ name: 'scratch-1', errorCode: 0, errorMessage: null }] };
      edit(resp);
      expect(summary(resp)).toEqual([
        ['scratch-1', 0, null],
        ['orders', 29, null],
      ]);
    });
  });

  it('leaves a name given twice to the broker, which refuses it before any authorization', () => {
    const h = harness();
    expect(authorize(key, createPartitions('secret', 'secret'), 3, h)).toEqual(UNTOUCHED);
    expect(h.logs).toEqual([]);
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, createPartitions('orders'), 3, ['topic:orders:alter']);
  });
});

describe('DescribeProducers', () => {
  const key = API_KEYS.DescribeProducers;
  const describeProducers = (...names: string[]): DescribeProducersRequest => ({
    ...defaultDescribeProducersRequest(),
    topics: names.map((name) => ({ name, partitionIndexes: [0, 2] })),
  });
  const codes = (resp: DescribeProducersResponse) => resp.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.errorMessage])]);

  it('forwards topics the principal may read', () => {
    expect(authorize(key, describeProducers('orders', 'orders-eu'), 0)).toEqual(UNTOUCHED);
  });

  it('leaves an invalid topic name to the broker, which answers INVALID_TOPIC_EXCEPTION before any authorization', () => {
    const h = harness();
    const { request } = rebuilt<DescribeProducersRequest, DescribeProducersResponse>(authorize(key, describeProducers('bad/name', '', 'secret'), 0, h));
    expect(request.topics.map((t) => t.name)).toEqual(['bad/name', '']);
    expect(denialsOf(h)).toEqual(['topic:secret:read']);
  });

  it('answers 29 on every partition: Describe is not enough', () => {
    atEveryVersion(key, describeProducers('catalog'), (outcome) => {
      expect(codes(answered<DescribeProducersResponse>(outcome))).toEqual([
        [
          'catalog',
          [
            [0, 29, 'Topic authorization failed.'],
            [2, 29, 'Topic authorization failed.'],
          ],
        ],
      ]);
    });
  });

  it('forwards the readable topics and merges 29 for the others', () => {
    atEveryVersion(key, describeProducers('secret', 'orders'), (outcome) => {
      const { request, edit } = rebuilt<DescribeProducersRequest, DescribeProducersResponse>(outcome);
      expect(request.topics).toEqual([{ name: 'orders', partitionIndexes: [0, 2] }]);
      const resp = { ...defaultDescribeProducersResponse(), topics: [{ name: 'orders', partitions: [{ ...defaultDescribeProducersResponsePartitionResponse(), partitionIndex: 0 }] }] };
      edit(resp);
      expect(codes(resp)).toEqual([
        ['orders', [[0, 0, null]]],
        [
          'secret',
          [
            [0, 29, 'Topic authorization failed.'],
            [2, 29, 'Topic authorization failed.'],
          ],
        ],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, describeProducers('catalog'), 0, ['topic:catalog:read']);
  });
});

/** Kafka's ConfigResource types. */
const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const CLIENT_METRICS = 16;
const UNKNOWN_TYPE = 99;

describe('DescribeConfigs', () => {
  const key = API_KEYS.DescribeConfigs;
  const describeConfigs = (...resources: [number, string][]): DescribeConfigsRequest => ({
    ...defaultDescribeConfigsRequest(),
    includeSynonyms: true,
    resources: resources.map(([resourceType, resourceName]) => ({ resourceType, resourceName, configurationKeys: null })),
  });
  const summary = (resp: DescribeConfigsResponse) => resp.results.map((r) => [r.resourceType, r.resourceName, r.errorCode, r.errorMessage, r.configs.length]);

  it('forwards topics and brokers the principal may describe the configs of', () => {
    expect(authorize(key, describeConfigs([TOPIC, 'catalog'], [TOPIC, 'scratch-1']), 4)).toEqual(UNTOUCHED);
    expect(authorize(key, describeConfigs([TOPIC, 'catalog'], [BROKER, '1'], [BROKER_LOGGER, '1']), 4, harness('enforce', 'dave'))).toEqual(UNTOUCHED);
  });

  it('answers 29 for a topic and 31 for every other resource type, with Kafka\'s messages', () => {
    atEveryVersion(
      key,
      describeConfigs([TOPIC, 'orders'], [BROKER, '1'], [BROKER_LOGGER, '1'], [CLIENT_METRICS, 'm'], [UNKNOWN_TYPE, 'x']),
      (outcome, _v, h) => {
        expect(summary(answered<DescribeConfigsResponse>(outcome))).toEqual([
          [TOPIC, 'orders', 29, 'Topic authorization failed.', 0],
          [BROKER, '1', 31, 'Cluster authorization failed.', 0],
          [BROKER_LOGGER, '1', 31, 'Cluster authorization failed.', 0],
          [CLIENT_METRICS, 'm', 31, 'Cluster authorization failed.', 0],
          [UNKNOWN_TYPE, 'x', 31, 'Cluster authorization failed.', 0],
        ]);
        expect(denialsOf(h)).toEqual(['topic:orders:describe-configs', 'cluster::describe-configs']);
      },
    );
  });

  it('forwards the describable resources and merges the errors of the others', () => {
    atEveryVersion(key, describeConfigs([BROKER, '1'], [TOPIC, 'catalog'], [TOPIC, 'secret']), (outcome) => {
      const { request, edit } = rebuilt<DescribeConfigsRequest, DescribeConfigsResponse>(outcome);
      expect(request.resources.map((r) => r.resourceName)).toEqual(['catalog']);
      expect(request.includeSynonyms).toBe(true);
      const resp = {
        ...defaultDescribeConfigsResponse(),
        results: [
          {
            ...defaultDescribeConfigsResponseDescribeConfigsResult(),
            resourceType: TOPIC,
            resourceName: 'catalog',
            errorMessage: null,
            configs: [{ ...defaultDescribeConfigsResponseDescribeConfigsResourceResult(), name: 'retention.ms', value: '1000' }],
          },
        ],
      };
      edit(resp);
      expect(summary(resp)).toEqual([
        [TOPIC, 'catalog', 0, null, 1],
        [BROKER, '1', 31, 'Cluster authorization failed.', 0],
        [TOPIC, 'secret', 29, 'Topic authorization failed.', 0],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, describeConfigs([TOPIC, 'orders'], [BROKER, '1']), 4, ['topic:orders:describe-configs', 'cluster::describe-configs']);
  });
});

describe('AlterConfigs', () => {
  const key = API_KEYS.AlterConfigs;
  const alterConfigs = (...resources: [number, string][]): AlterConfigsRequest => ({
    ...defaultAlterConfigsRequest(),
    validateOnly: true,
    resources: resources.map(([resourceType, resourceName]) => ({ resourceType, resourceName, configs: [{ name: 'retention.ms', value: '1000' }] })),
  });
  const summary = (resp: AlterConfigsResponse) => resp.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode, r.errorMessage]);

  it('forwards resources the principal may alter the configs of', () => {
    expect(authorize(key, alterConfigs([TOPIC, 'scratch-1']), 2)).toEqual(UNTOUCHED);
    expect(authorize(key, alterConfigs([TOPIC, 'scratch-1'], [BROKER, '1']), 2, harness('enforce', 'dave'))).toEqual(UNTOUCHED);
  });

  it('answers 29 for a topic (DescribeConfigs is not enough) and 31 for a broker', () => {
    atEveryVersion(key, alterConfigs([TOPIC, 'catalog'], [BROKER, '1']), (outcome) => {
      expect(summary(answered<AlterConfigsResponse>(outcome))).toEqual([
        [TOPIC, 'catalog', 29, 'Topic authorization failed.'],
        [BROKER, '1', 31, 'Cluster authorization failed.'],
      ]);
    });
  });

  it('forwards the alterable resources and merges the errors of the others', () => {
    atEveryVersion(key, alterConfigs([TOPIC, 'scratch-1'], [BROKER_LOGGER, '2']), (outcome) => {
      const { request, edit } = rebuilt<AlterConfigsRequest, AlterConfigsResponse>(outcome);
      expect(request.resources.map((r) => [r.resourceType, r.resourceName])).toEqual([[TOPIC, 'scratch-1']]);
      expect(request.validateOnly).toBe(true);
      const resp = { ...defaultAlterConfigsResponse(), responses: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'scratch-1' }] };
      edit(resp);
      expect(summary(resp)).toEqual([
        [TOPIC, 'scratch-1', 0, null],
        [BROKER_LOGGER, '2', 31, 'Cluster authorization failed.'],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, alterConfigs([BROKER, '1']), 2, ['cluster::alter-configs']);
  });
});

describe('IncrementalAlterConfigs', () => {
  const key = API_KEYS.IncrementalAlterConfigs;
  const alterConfigs = (...resources: [number, string][]): IncrementalAlterConfigsRequest => ({
    ...defaultIncrementalAlterConfigsRequest(),
    resources: resources.map(([resourceType, resourceName]) => ({ resourceType, resourceName, configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }] })),
  });
  const summary = (resp: IncrementalAlterConfigsResponse) => resp.responses.map((r) => [r.resourceType, r.resourceName, r.errorCode, r.errorMessage]);

  it('forwards resources the principal may alter the configs of', () => {
    expect(authorize(key, alterConfigs([TOPIC, 'scratch-1'], [TOPIC, 'scratch-2']), 1)).toEqual(UNTOUCHED);
  });

  it('answers 29 for a topic and 31 for broker, client-metrics and unknown resources', () => {
    atEveryVersion(key, alterConfigs([TOPIC, 'orders'], [BROKER, ''], [CLIENT_METRICS, 'm'], [UNKNOWN_TYPE, 'x']), (outcome) => {
      expect(summary(answered<IncrementalAlterConfigsResponse>(outcome))).toEqual([
        [TOPIC, 'orders', 29, 'Topic authorization failed.'],
        [BROKER, '', 31, 'Cluster authorization failed.'],
        [CLIENT_METRICS, 'm', 31, 'Cluster authorization failed.'],
        [UNKNOWN_TYPE, 'x', 31, 'Cluster authorization failed.'],
      ]);
    });
  });

  it('forwards the alterable resources and merges the errors of the others', () => {
    atEveryVersion(key, alterConfigs([TOPIC, 'secret'], [TOPIC, 'scratch-1']), (outcome) => {
      const { request, edit } = rebuilt<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(outcome);
      expect(request.resources.map((r) => r.resourceName)).toEqual(['scratch-1']);
      const resp = { ...defaultIncrementalAlterConfigsResponse(), responses: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'scratch-1' }] };
      edit(resp);
      expect(summary(resp)).toEqual([
        [TOPIC, 'scratch-1', 0, null],
        [TOPIC, 'secret', 29, 'Topic authorization failed.'],
      ]);
    });
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    expectAuditForward(key, alterConfigs([TOPIC, 'secret']), 1, ['topic:secret:alter-configs']);
  });
});

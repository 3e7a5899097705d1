import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/authz/api-rules/rule.js';
import { TRANSACTION_RULES } from '../../src/authz/api-rules/transaction-apis.js';
import type { EnforcementMode } from '../../src/authz/denial-log.js';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import { defaultAddOffsetsToTxnRequest } from '../../src/protocol/generated/messages/AddOffsetsToTxnRequest.js';
import type { AddOffsetsToTxnResponse } from '../../src/protocol/generated/messages/AddOffsetsToTxnResponse.js';
import { type AddPartitionsToTxnRequest, defaultAddPartitionsToTxnRequest } from '../../src/protocol/generated/messages/AddPartitionsToTxnRequest.js';
import type { AddPartitionsToTxnResponse } from '../../src/protocol/generated/messages/AddPartitionsToTxnResponse.js';
import { type DescribeTransactionsRequest, defaultDescribeTransactionsRequest } from '../../src/protocol/generated/messages/DescribeTransactionsRequest.js';
import {
  type DescribeTransactionsResponse,
  defaultDescribeTransactionsResponse,
  defaultDescribeTransactionsResponseTransactionState,
} from '../../src/protocol/generated/messages/DescribeTransactionsResponse.js';
import { defaultEndTxnRequest } from '../../src/protocol/generated/messages/EndTxnRequest.js';
import type { EndTxnResponse } from '../../src/protocol/generated/messages/EndTxnResponse.js';
import { type InitProducerIdRequest, defaultInitProducerIdRequest } from '../../src/protocol/generated/messages/InitProducerIdRequest.js';
import type { InitProducerIdResponse } from '../../src/protocol/generated/messages/InitProducerIdResponse.js';
import { defaultListTransactionsRequest } from '../../src/protocol/generated/messages/ListTransactionsRequest.js';
import {
  type ListTransactionsResponse,
  defaultListTransactionsResponse,
  defaultListTransactionsResponseTransactionState,
} from '../../src/protocol/generated/messages/ListTransactionsResponse.js';
import {
  type TxnOffsetCommitRequest,
  defaultTxnOffsetCommitRequest,
  defaultTxnOffsetCommitRequestPartition,
} from '../../src/protocol/generated/messages/TxnOffsetCommitRequest.js';
import { type TxnOffsetCommitResponse, defaultTxnOffsetCommitResponse } from '../../src/protocol/generated/messages/TxnOffsetCommitResponse.js';
import { answered, denialsOf, expectWritable, forwardEdit, rebuilt, UNTOUCHED } from '../support/rule-outcomes.js';
import { ruleHarness } from '../support/rule-harness.js';

// alice: a transactional producer (Write on tx-* ids, Read on app-* groups, Write and Read on
// orders topics), who may also Describe "view-tx". carol: Cluster IdempotentWrite only.
// dave: Read on one topic, no write anywhere. erin: alice's grants and Write on every topic.
// Everything else is denied.
const POLICY = `
roles:
  txn-producer:
    - { transactionalIds: ["tx-*"], operations: [write] }
    - { transactionalIds: ["view-tx"], operations: [describe] }
    - { groups: ["app-*"], operations: [read] }
    - { topics: ["orders", "orders-*"], operations: [write, read] }
  idempotent:
    - { cluster: true, operations: [idempotent-write] }
  reader:
    - { topics: ["orders"], operations: [read] }
  any-writer:
    - { topics: ["*"], operations: [write] }
bindings:
  alice: [txn-producer]
  carol: [idempotent]
  dave: [reader]
  erin: [txn-producer, any-writer]
`;

function harness(mode: EnforcementMode = 'enforce', principal = 'alice') {
  return ruleHarness(POLICY, { principal, mode });
}

function authorize(apiKey: number, request: object, version: number, h = harness()): Outcome {
  return TRANSACTION_RULES[apiKey].authorize(request, h.ctx(version));
}

/** Every version the proxy offers clients for `apiKey`. */
function versions(apiKey: number): number[] {
  const api = APIS.find((a) => a.apiKey === apiKey)!;
  const max = Math.min(api.maxStableVersion, TRANSACTION_RULES[apiKey].maxVersion ?? Infinity);
  return Array.from({ length: max - api.minVersion + 1 }, (_, i) => api.minVersion + i);
}

describe('InitProducerId', () => {
  const key = API_KEYS.InitProducerId;
  const init = (transactionalId: string | null): InitProducerIdRequest => ({ ...defaultInitProducerIdRequest(), transactionalId, transactionTimeoutMs: 60_000 });

  it('forwards a transactional producer with TransactionalId Write', () => {
    expect(authorize(key, init('tx-1'), 4)).toEqual(UNTOUCHED);
  });

  it('answers a transactional id without Write with 53 and no producer id, at every version', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, init('view-tx'), v);
      expect(answered<InitProducerIdResponse>(outcome)).toMatchObject({ errorCode: 53, producerId: -1n, producerEpoch: -1 });
      expectWritable(key, outcome, v);
    }
  });

  it('forwards an idempotent producer with Write on some topic, without logging', () => {
    const h = harness();
    expect(authorize(key, init(null), 3, h)).toEqual(UNTOUCHED);
    expect(h.logs).toEqual([]);
  });

  it('forwards an idempotent producer with Cluster IdempotentWrite and no topic grant', () => {
    const h = harness('enforce', 'carol');
    expect(authorize(key, init(null), 3, h)).toEqual(UNTOUCHED);
    expect(h.logs).toEqual([]);
  });

  it('answers an idempotent producer with neither with 31, logged as a cluster denial', () => {
    for (const v of versions(key)) {
      const h = harness('enforce', 'dave');
      const outcome = authorize(key, init(null), v, h);
      expect(answered<InitProducerIdResponse>(outcome)).toMatchObject({ errorCode: 31, producerId: -1n, producerEpoch: -1 });
      expectWritable(key, outcome, v);
      expect(denialsOf(h)).toEqual(['cluster::idempotent-write']);
    }
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit', 'dave');
    expect(authorize(key, init(null), 2, h)).toEqual(UNTOUCHED);
    expect(authorize(key, init('other'), 2, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['cluster::idempotent-write', 'transactionalId:other:write']);
    expect(h.logs.every((l) => l.level === 'warn')).toBe(true);
  });
});

describe('AddPartitionsToTxn', () => {
  const key = API_KEYS.AddPartitionsToTxn;
  const add = (transactionalId: string, topics: [string, number[]][]): AddPartitionsToTxnRequest => ({
    ...defaultAddPartitionsToTxnRequest(),
    v3AndBelowTransactionalId: transactionalId,
    v3AndBelowProducerId: 1000n,
    v3AndBelowTopics: topics.map(([name, partitions]) => ({ name, partitions })),
  });
  const results = (resp: AddPartitionsToTxnResponse) =>
    resp.resultsByTopicV3AndBelow.map((t) => [t.name, t.resultsByPartition.map((p) => [p.partitionIndex, p.partitionErrorCode])]);

  it('offers clients versions 0-3 only: later ones are for brokers', () => {
    expect(TRANSACTION_RULES[key].maxVersion).toBe(3);
    expect(versions(key)).toEqual([0, 1, 2, 3]);
  });

  it('forwards with TransactionalId Write and Topic Write on every topic', () => {
    expect(authorize(key, add('tx-1', [['orders', [0, 1]], ['orders-eu', [2]]]), 3)).toEqual(UNTOUCHED);
  });

  it('answers a transactional id without Write with 53 on every partition', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, add('other', [['orders', [0, 1]], ['secret', [2]]]), v);
      expect(results(answered(outcome))).toEqual([
        ['orders', [[0, 53], [1, 53]]],
        ['secret', [[2, 53]]],
      ]);
      expectWritable(key, outcome, v);
    }
  });

  it('answers the whole request when any topic is denied: 29 for it, 55 for the others, nothing forwarded', () => {
    for (const v of versions(key)) {
      const h = harness();
      const outcome = authorize(key, add('tx-1', [['orders', [0, 1]], ['secret', [2]], ['hidden', [0]]]), v, h);
      expect(results(answered(outcome))).toEqual([
        ['orders', [[0, 55], [1, 55]]],
        ['secret', [[2, 29]]],
        ['hidden', [[0, 29]]],
      ]);
      expectWritable(key, outcome, v);
      expect(denialsOf(h)).toEqual(['topic:secret:write', 'topic:hidden:write']);
    }
  });

  it('denies an internal topic (29, the others 55) whatever the grants, even in audit mode, as Kafka leaves it out of the authorization', () => {
    for (const mode of ['enforce', 'audit'] as const) {
      const h = harness(mode, 'erin');
      const outcome = authorize(key, add('tx-1', [['orders', [0]], ['__consumer_offsets', [7]], ['__transaction_state', [1]]]), 3, h);
      expect(results(answered(outcome))).toEqual([
        ['orders', [[0, 55]]],
        ['__consumer_offsets', [[7, 29]]],
        ['__transaction_state', [[1, 29]]],
      ]);
      expectWritable(key, outcome, 3);
      expect(denialsOf(h)).toEqual(['topic:__consumer_offsets:write', 'topic:__transaction_state:write']);
    }
    expect(authorize(key, add('tx-1', [['orders', [0]], ['__consumer_offsets_x', [7]]]), 3, harness('enforce', 'erin'))).toEqual(UNTOUCHED);
  });

  it('needs Write, not Read, on the topics', () => {
    const outcome = authorize(key, add('tx-1', [['orders', [0]]]), 1, harness('enforce', 'dave'));
    expect(results(answered(outcome))).toEqual([['orders', [[0, 53]]]]);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, add('other', [['secret', [0]]]), 3, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['transactionalId:other:write', 'topic:secret:write']);
  });
});

describe('AddOffsetsToTxn', () => {
  const key = API_KEYS.AddOffsetsToTxn;
  const addOffsets = (transactionalId: string, groupId: string) => ({ ...defaultAddOffsetsToTxnRequest(), transactionalId, groupId });

  it('forwards with TransactionalId Write and Group Read', () => {
    expect(authorize(key, addOffsets('tx-1', 'app-1'), 4)).toEqual(UNTOUCHED);
  });

  it('answers 53 for the transactional id before looking at the group, and 30 for the group', () => {
    for (const v of versions(key)) {
      const h = harness();
      const txn = authorize(key, addOffsets('view-tx', 'other'), v, h);
      expect(answered<AddOffsetsToTxnResponse>(txn).errorCode).toBe(53);
      expectWritable(key, txn, v);
      expect(denialsOf(h)).toEqual(['transactionalId:view-tx:write']);
      const group = authorize(key, addOffsets('tx-1', 'other'), v);
      expect(answered<AddOffsetsToTxnResponse>(group).errorCode).toBe(30);
      expectWritable(key, group, v);
    }
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, addOffsets('other', 'other'), 3, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['transactionalId:other:write', 'group:other:read']);
  });
});

describe('EndTxn', () => {
  const key = API_KEYS.EndTxn;
  const end = (transactionalId: string) => ({ ...defaultEndTxnRequest(), transactionalId, committed: true });

  it('forwards with TransactionalId Write and answers 53 without it', () => {
    for (const v of versions(key)) {
      expect(authorize(key, end('tx-1'), v)).toEqual(UNTOUCHED);
      const outcome = authorize(key, end('view-tx'), v);
      expect(answered<EndTxnResponse>(outcome).errorCode).toBe(53);
      expectWritable(key, outcome, v);
    }
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, end('other'), 3, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['transactionalId:other:write']);
  });
});

describe('TxnOffsetCommit', () => {
  const key = API_KEYS.TxnOffsetCommit;
  const commit = (transactionalId: string, groupId: string, topics: [string, number[]][]): TxnOffsetCommitRequest => ({
    ...defaultTxnOffsetCommitRequest(),
    transactionalId,
    groupId,
    producerId: 1000n,
    memberId: 'm-1',
    topics: topics.map(([name, partitions]) => ({
      name,
      partitions: partitions.map((partitionIndex) => ({ ...defaultTxnOffsetCommitRequestPartition(), partitionIndex, committedOffset: 9n })),
    })),
  });
  const errors = (resp: TxnOffsetCommitResponse) => resp.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]);

  it('forwards with TransactionalId Write, Group Read and Topic Read', () => {
    expect(authorize(key, commit('tx-1', 'app-1', [['orders', [0]], ['orders-eu', [1]]]), 3)).toEqual(UNTOUCHED);
  });

  it('answers 53 on every partition without TransactionalId Write, then 30 without Group Read', () => {
    for (const v of versions(key)) {
      const txn = authorize(key, commit('other', 'other', [['orders', [0, 1]], ['secret', [2]]]), v);
      expect(errors(answered(txn))).toEqual([
        ['orders', [[0, 53], [1, 53]]],
        ['secret', [[2, 53]]],
      ]);
      expectWritable(key, txn, v);
      const group = authorize(key, commit('tx-1', 'other', [['orders', [0, 1]], ['secret', [2]]]), v);
      expect(errors(answered(group))).toEqual([
        ['orders', [[0, 30], [1, 30]]],
        ['secret', [[2, 30]]],
      ]);
      expectWritable(key, group, v);
    }
  });

  it('rebuilds without unreadable topics and merges 29 per partition into the broker response', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, commit('tx-1', 'app-1', [['orders', [0]], ['secret', [1, 2]]]), v);
      const { request, edit } = rebuilt<TxnOffsetCommitRequest, TxnOffsetCommitResponse>(outcome);
      expect(request).toEqual(commit('tx-1', 'app-1', [['orders', [0]]]));
      expectWritable(key, outcome, v);
      const resp = { ...defaultTxnOffsetCommitResponse(), topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] };
      edit(resp);
      expect(errors(resp)).toEqual([
        ['orders', [[0, 0]]],
        ['secret', [[1, 29], [2, 29]]],
      ]);
    }
  });

  it('answers 29 when no topic is readable', () => {
    const outcome = authorize(key, commit('tx-1', 'app-1', [['secret', [0]]]), 2);
    expect(errors(answered(outcome))).toEqual([['secret', [[0, 29]]]]);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, commit('other', 'other', [['secret', [0]]]), 3, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['transactionalId:other:write', 'group:other:read', 'topic:secret:read']);
  });
});

describe('DescribeTransactions', () => {
  const key = API_KEYS.DescribeTransactions;
  const describeTxns = (...transactionalIds: string[]): DescribeTransactionsRequest => ({ ...defaultDescribeTransactionsRequest(), transactionalIds });
  const state = (transactionalId: string) => ({
    ...defaultDescribeTransactionsResponseTransactionState(),
    transactionalId,
    transactionState: 'Ongoing',
    producerId: 1000n,
  });

  const withTopics = (transactionalId: string, ...topics: string[]) => ({ ...state(transactionalId), topics: topics.map((topic) => ({ topic, partitions: [0] })) });

  it('forwards ids the principal may describe (Write implies Describe), listing only the topics it may describe', () => {
    const h = harness();
    const edit = forwardEdit<DescribeTransactionsResponse>(authorize(key, describeTxns('tx-1', 'view-tx'), 0, h));
    const resp = { ...defaultDescribeTransactionsResponse(), transactionStates: [withTopics('tx-1', 'orders', 'secret'), withTopics('view-tx', 'hidden')] };
    edit(resp);
    expect(resp.transactionStates.map((s) => [s.transactionalId, s.topics.map((t) => t.topic)])).toEqual([
      ['tx-1', ['orders']],
      ['view-tx', []],
    ]);
    // As Kafka's listing: not a denial of the request.
    expect(h.logs).toEqual([]);
  });

  it('answers 53 per id when none may be described', () => {
    const outcome = authorize(key, describeTxns('other', 'nope'), 0);
    expect(answered<DescribeTransactionsResponse>(outcome).transactionStates).toEqual([
      { ...defaultDescribeTransactionsResponseTransactionState(), transactionalId: 'other', errorCode: 53 },
      { ...defaultDescribeTransactionsResponseTransactionState(), transactionalId: 'nope', errorCode: 53 },
    ]);
    expectWritable(key, outcome, 0);
  });

  it('rebuilds without denied ids and merges them back', () => {
    const outcome = authorize(key, describeTxns('other', 'view-tx', 'tx-1'), 0);
    const { request, edit } = rebuilt<DescribeTransactionsRequest, DescribeTransactionsResponse>(outcome);
    expect(request.transactionalIds).toEqual(['view-tx', 'tx-1']);
    expectWritable(key, outcome, 0);
    const resp = { ...defaultDescribeTransactionsResponse(), transactionStates: [state('view-tx'), withTopics('tx-1', 'secret', 'orders-eu')] };
    edit(resp);
    expect(resp.transactionStates.map((s) => [s.transactionalId, s.errorCode, s.transactionState, s.topics.map((t) => t.topic)])).toEqual([
      ['view-tx', 0, 'Ongoing', []],
      ['tx-1', 0, 'Ongoing', ['orders-eu']],
      ['other', 53, '', []],
    ]);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, describeTxns('other'), 0, h).action).toBe('forward');
    expect(denialsOf(h)).toEqual(['transactionalId:other:describe']);
  });
});

describe('ListTransactions', () => {
  const key = API_KEYS.ListTransactions;
  const listed = (...ids: string[]): ListTransactionsResponse => ({
    ...defaultListTransactionsResponse(),
    transactionStates: ids.map((transactionalId) => ({ ...defaultListTransactionsResponseTransactionState(), transactionalId, transactionState: 'Ongoing' })),
  });

  function listEdit(h: ReturnType<typeof harness>, version: number): (resp: ListTransactionsResponse) => void {
    const outcome = authorize(key, defaultListTransactionsRequest(), version, h);
    expect(outcome.action).toBe('forward');
    return (outcome as { edit: (resp: ListTransactionsResponse) => void }).edit;
  }

  it('keeps exactly the transactional ids the principal may describe, silently', () => {
    for (const v of versions(key)) {
      const h = harness();
      const resp = listed('tx-1', 'other', 'view-tx', 'secret-tx', 'tx-2');
      listEdit(h, v)(resp);
      expect(resp.transactionStates.map((s) => s.transactionalId)).toEqual(['tx-1', 'view-tx', 'tx-2']);
      expect(h.logs).toEqual([]);
    }
  });

  it('lists everything in audit mode', () => {
    const resp = listed('tx-1', 'other');
    listEdit(harness('audit'), 1)(resp);
    expect(resp.transactionStates.map((s) => s.transactionalId)).toEqual(['tx-1', 'other']);
  });
});

it('TRANSACTION_RULES covers exactly the transaction APIs', () => {
  const names = Object.keys(TRANSACTION_RULES).map((k) => APIS.find((a) => a.apiKey === Number(k))!.name);
  expect(names.sort()).toEqual(['AddOffsetsToTxn', 'AddPartitionsToTxn', 'DescribeTransactions', 'EndTxn', 'InitProducerId', 'ListTransactions', 'TxnOffsetCommit']);
});

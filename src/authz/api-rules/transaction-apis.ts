import { API_KEYS } from '../../protocol/generated/apis.js';
import type { AddOffsetsToTxnRequest } from '../../protocol/generated/messages/AddOffsetsToTxnRequest.js';
import { type AddOffsetsToTxnResponse, defaultAddOffsetsToTxnResponse } from '../../protocol/generated/messages/AddOffsetsToTxnResponse.js';
import type { AddPartitionsToTxnRequest, AddPartitionsToTxnRequestAddPartitionsToTxnTopic } from '../../protocol/generated/messages/AddPartitionsToTxnRequest.js';
import { type AddPartitionsToTxnResponse, defaultAddPartitionsToTxnResponse } from '../../protocol/generated/messages/AddPartitionsToTxnResponse.js';
import type { DescribeTransactionsRequest } from '../../protocol/generated/messages/DescribeTransactionsRequest.js';
import {
  type DescribeTransactionsResponse,
  defaultDescribeTransactionsResponse,
  defaultDescribeTransactionsResponseTransactionState,
} from '../../protocol/generated/messages/DescribeTransactionsResponse.js';
import type { EndTxnRequest } from '../../protocol/generated/messages/EndTxnRequest.js';
import { type EndTxnResponse, defaultEndTxnResponse } from '../../protocol/generated/messages/EndTxnResponse.js';
import type { InitProducerIdRequest } from '../../protocol/generated/messages/InitProducerIdRequest.js';
import { type InitProducerIdResponse, defaultInitProducerIdResponse } from '../../protocol/generated/messages/InitProducerIdResponse.js';
import type { ListTransactionsRequest } from '../../protocol/generated/messages/ListTransactionsRequest.js';
import type { ListTransactionsResponse } from '../../protocol/generated/messages/ListTransactionsResponse.js';
import type { TxnOffsetCommitRequest } from '../../protocol/generated/messages/TxnOffsetCommitRequest.js';
import { type TxnOffsetCommitResponse, defaultTxnOffsetCommitResponse } from '../../protocol/generated/messages/TxnOffsetCommitResponse.js';
import {
  CLUSTER_AUTHORIZATION_FAILED,
  GROUP_AUTHORIZATION_FAILED,
  OPERATION_NOT_ATTEMPTED,
  TOPIC_AUTHORIZATION_FAILED,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
} from './errors.js';
import { partitionErrors } from './group-apis.js';
import { type ApiRule, FORWARD, type Outcome, type RuleTable, denyEach, partition } from './rule.js';

/**
 * InitProducerId: a transactional producer needs TransactionalId Write (53). An idempotent one
 * (no transactional id) needs Cluster IdempotentWrite or, as Kafka allows, Write on any topic (31).
 */
const initProducerIdRule: ApiRule<InitProducerIdRequest, InitProducerIdResponse> = {
  authorize(req, { access }) {
    const deny = (errorCode: number): Outcome<InitProducerIdResponse> => ({
      action: 'answer',
      response: { ...defaultInitProducerIdResponse(), errorCode, producerId: -1n, producerEpoch: -1 },
    });
    if (req.transactionalId !== null) {
      return access.check('transactionalId', req.transactionalId, 'write') ? FORWARD : deny(TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    // The cluster check comes last: it logs a denial only when no topic grant lets the producer in either.
    return access.grants.allowsAny('topic', 'write') || access.check('cluster', '', 'idempotent-write') ? FORWARD : deny(CLUSTER_AUTHORIZATION_FAILED);
  },
};

function addPartitionsResults(
  topics: readonly AddPartitionsToTxnRequestAddPartitionsToTxnTopic[],
  errorCode: (name: string) => number,
): AddPartitionsToTxnResponse {
  const resultsByTopicV3AndBelow = topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: errorCode(t.name) })),
  }));
  return { ...defaultAddPartitionsToTxnResponse(), resultsByTopicV3AndBelow };
}

/** Kafka's internal topics (Topic.isInternal): never a client's to add to a transaction, whatever its grants. */
const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state', '__share_group_state']);

/**
 * AddPartitionsToTxn (client versions 0-3): TransactionalId Write (53 on every partition), then
 * Topic Write per topic; an internal topic is always denied (29), as Kafka leaves it out of the
 * authorization. A transaction takes all its partitions or none: with any topic denied the
 * denied ones get 29 and the others 55, and nothing reaches the broker, as in Kafka.
 */
const addPartitionsToTxnRule: ApiRule<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  // v4+ batches transactions for brokers verifying produce requests: never a client's.
  maxVersion: 3,
  authorize(req, { access }) {
    const topics = req.v3AndBelowTopics;
    if (!access.check('transactionalId', req.v3AndBelowTransactionalId, 'write')) {
      return { action: 'answer', response: addPartitionsResults(topics, () => TRANSACTIONAL_ID_AUTHORIZATION_FAILED) };
    }
    // Every topic is checked, so every denial is logged.
    const deniedNames = new Set(
      topics
        .filter((t) => {
          if (!INTERNAL_TOPICS.has(t.name)) return !access.check('topic', t.name, 'write');
          access.refuse('topic', t.name, 'write');
          return true;
        })
        .map((t) => t.name),
    );
    if (deniedNames.size === 0) return FORWARD;
    const errorCode = (name: string) => (deniedNames.has(name) ? TOPIC_AUTHORIZATION_FAILED : OPERATION_NOT_ATTEMPTED);
    return { action: 'answer', response: addPartitionsResults(topics, errorCode) };
  },
};

/** AddOffsetsToTxn: TransactionalId Write (53), then Group Read on the group whose offsets join the transaction (30). */
const addOffsetsToTxnRule: ApiRule<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  authorize(req, { access }) {
    const deny = (errorCode: number): Outcome<AddOffsetsToTxnResponse> => ({ action: 'answer', response: { ...defaultAddOffsetsToTxnResponse(), errorCode } });
    if (!access.check('transactionalId', req.transactionalId, 'write')) return deny(TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    return access.check('group', req.groupId, 'read') ? FORWARD : deny(GROUP_AUTHORIZATION_FAILED);
  },
};

/** EndTxn: TransactionalId Write (53). */
const endTxnRule: ApiRule<EndTxnRequest, EndTxnResponse> = {
  authorize: (req, { access }) =>
    access.check('transactionalId', req.transactionalId, 'write')
      ? FORWARD
      : { action: 'answer', response: { ...defaultEndTxnResponse(), errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED } },
};

/** TxnOffsetCommit: TransactionalId Write (53), Group Read (30), both on every partition; then Topic Read per topic (29). */
const txnOffsetCommitRule: ApiRule<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  authorize(req, { access }) {
    const deny = (errorCode: number): Outcome<TxnOffsetCommitResponse> => ({
      action: 'answer',
      response: { ...defaultTxnOffsetCommitResponse(), topics: partitionErrors(req.topics, errorCode) },
    });
    if (!access.check('transactionalId', req.transactionalId, 'write')) return deny(TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!access.check('group', req.groupId, 'read')) return deny(GROUP_AUTHORIZATION_FAILED);
    const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.name, 'read'));
    return denyEach(
      allowed,
      partitionErrors(denied, TOPIC_AUTHORIZATION_FAILED),
      (topics) => ({ ...defaultTxnOffsetCommitResponse(), topics }),
      (topics) => ({ ...req, topics }),
      (resp) => resp.topics,
    );
  },
};

/**
 * DescribeTransactions: TransactionalId Describe per id (53). As Kafka, a described transaction
 * lists only the topics the principal may describe (KafkaApis.handleDescribeTransactionsRequest).
 */
const describeTransactionsRule: ApiRule<DescribeTransactionsRequest, DescribeTransactionsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.transactionalIds, (id) => access.check('transactionalId', id, 'describe'));
    const outcome = denyEach(
      allowed,
      denied.map((transactionalId) => ({
        ...defaultDescribeTransactionsResponseTransactionState(),
        transactionalId,
        errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      })),
      (transactionStates) => ({ ...defaultDescribeTransactionsResponse(), transactionStates }),
      (transactionalIds) => ({ ...req, transactionalIds }),
      (resp) => resp.transactionStates,
    );
    if (outcome.action === 'answer') return outcome;
    const merge = outcome.action === 'rebuild' ? outcome.edit : undefined;
    const edit = (resp: DescribeTransactionsResponse) => {
      for (const s of resp.transactionStates) s.topics = s.topics.filter((t) => access.permits('topic', t.topic, 'describe'));
      merge?.(resp);
    };
    return outcome.action === 'rebuild' ? { ...outcome, edit } : { action: 'forward', edit };
  },
};

/** ListTransactions: never an error; only the transactional ids the principal may describe are listed. */
const listTransactionsRule: ApiRule<ListTransactionsRequest, ListTransactionsResponse> = {
  authorize: (_req, { access }) => ({
    action: 'forward',
    edit: (resp) => void (resp.transactionStates = resp.transactionStates.filter((s) => access.permits('transactionalId', s.transactionalId, 'describe'))),
  }),
};

/** The transaction APIs, by key. */
export const TRANSACTION_RULES: RuleTable = {
  [API_KEYS.InitProducerId]: initProducerIdRule,
  [API_KEYS.AddPartitionsToTxn]: addPartitionsToTxnRule,
  [API_KEYS.AddOffsetsToTxn]: addOffsetsToTxnRule,
  [API_KEYS.EndTxn]: endTxnRule,
  [API_KEYS.TxnOffsetCommit]: txnOffsetCommitRule,
  [API_KEYS.DescribeTransactions]: describeTransactionsRule,
  [API_KEYS.ListTransactions]: listTransactionsRule,
};

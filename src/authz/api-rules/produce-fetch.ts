import type { FetchRequest, FetchRequestFetchTopic } from '../../protocol/generated/messages/FetchRequest.js';
import {
  type FetchResponse,
  defaultFetchResponse,
  defaultFetchResponseFetchableTopicResponse,
  defaultFetchResponsePartitionData,
} from '../../protocol/generated/messages/FetchResponse.js';
import type { ProduceRequest, ProduceRequestTopicProduceData } from '../../protocol/generated/messages/ProduceRequest.js';
import {
  type ProduceResponse,
  defaultProduceResponse,
  defaultProduceResponsePartitionProduceResponse,
  defaultProduceResponseTopicProduceResponse,
} from '../../protocol/generated/messages/ProduceResponse.js';
import { CLUSTER_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_ID } from './errors.js';
import { type ApiRule, FORWARD, type Outcome, partition } from './rule.js';

/** Fetch names topics by id from this version on (KIP-516). */
const FETCH_TOPIC_IDS_FROM = 13;

function produceErrors(topics: readonly ProduceRequestTopicProduceData[], errorCode: number): ProduceResponse['responses'] {
  return topics.map((t) => ({
    ...defaultProduceResponseTopicProduceResponse(),
    name: t.name,
    partitionResponses: t.partitionData.map((p) => ({ ...defaultProduceResponsePartitionProduceResponse(), index: p.index, errorCode })),
  }));
}

/** Produce: Topic Write per topic (29 per partition); transactional data also needs TransactionalId Write (53 on every partition). */
export const produceRule: ApiRule<ProduceRequest, ProduceResponse> = {
  authorize(req, { access }) {
    if (req.transactionalId !== null && !access.check('transactionalId', req.transactionalId, 'write')) {
      return { action: 'answer', response: { ...defaultProduceResponse(), responses: produceErrors(req.topicData, TRANSACTIONAL_ID_AUTHORIZATION_FAILED) } };
    }
    const [allowed, denied] = partition(req.topicData, (t) => access.check('topic', t.name, 'write'));
    if (denied.length === 0) return FORWARD;
    const errors = produceErrors(denied, TOPIC_AUTHORIZATION_FAILED);
    if (allowed.length === 0) return { action: 'answer', response: { ...defaultProduceResponse(), responses: errors } };
    return { action: 'rebuild', request: { ...req, topicData: allowed }, edit: (resp) => void resp.responses.push(...errors) };
  },
};

function fetchErrors(topics: readonly FetchRequestFetchTopic[], errorCode: (t: FetchRequestFetchTopic) => number): FetchResponse['responses'] {
  return topics.map((t) => ({
    ...defaultFetchResponseFetchableTopicResponse(),
    topic: t.topic,
    topicId: t.topicId,
    partitions: t.partitions.map((p) => ({
      ...defaultFetchResponsePartitionData(),
      partitionIndex: p.partition,
      errorCode: errorCode(t),
      highWatermark: -1n,
    })),
  }));
}

function fetchReplicaId(req: FetchRequest, version: number): number {
  return version >= 15 ? req.replicaState.replicaId : req.replicaId;
}

/**
 * Fetch: Topic Read per topic (29 per partition). From v13 topics come by id: a name the proxy
 * cannot learn answers UNKNOWN_TOPIC_ID (100), so the client refreshes its metadata. A fetch
 * as a follower replica is broker traffic (ClusterAction) and always refused.
 */
export const fetchRule: ApiRule<FetchRequest, FetchResponse> = {
  topicIds: (req, version) => (version >= FETCH_TOPIC_IDS_FROM ? req.topics.map((t) => t.topicId) : []),
  authorize(req, ctx): Outcome<FetchResponse> {
    if (fetchReplicaId(req, ctx.version) >= 0) {
      ctx.access.refuse('cluster', 'kafka-cluster', 'cluster-action');
      return { action: 'answer', response: { ...defaultFetchResponse(), errorCode: CLUSTER_AUTHORIZATION_FAILED } };
    }
    const byId = ctx.version >= FETCH_TOPIC_IDS_FROM;
    const unknown = new Set<FetchRequestFetchTopic>();
    const [allowed, denied] = partition(req.topics, (t) => {
      const name = byId ? ctx.topicName(t.topicId) : t.topic;
      if (name === undefined) {
        unknown.add(t);
        return false;
      }
      return ctx.access.check('topic', name, 'read');
    });
    if (denied.length === 0) return FORWARD;
    const errors = fetchErrors(denied, (t) => (unknown.has(t) ? UNKNOWN_TOPIC_ID : TOPIC_AUTHORIZATION_FAILED));
    // An answer from the proxy keeps an incremental fetch session going; it never starts one.
    const sessionId = req.sessionEpoch > 0 ? req.sessionId : 0;
    if (allowed.length === 0) return { action: 'answer', response: { ...defaultFetchResponse(), sessionId, responses: errors } };
    return { action: 'rebuild', request: { ...req, topics: allowed }, edit: (resp) => void resp.responses.push(...errors) };
  },
};

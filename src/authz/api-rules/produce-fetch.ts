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
import { CLUSTER_AUTHORIZATION_FAILED, FETCH_SESSION_ID_NOT_FOUND, TOPIC_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_ID } from './errors.js';
import { type ApiRule, FORWARD, type Outcome, denyEach, partition } from './rule.js';

/** Fetch names topics by id from this version on (KIP-516). */
const FETCH_TOPIC_IDS_FROM = 13;

function produceErrors(topics: readonly ProduceRequestTopicProduceData[], errorCode: number): ProduceResponse['responses'] {
  return topics.map((t) => ({
    ...defaultProduceResponseTopicProduceResponse(),
    name: t.name,
    partitionResponses: t.partitionData.map((p) => ({ ...defaultProduceResponsePartitionProduceResponse(), index: p.index, errorCode, baseOffset: -1n })),
  }));
}

/** Produce: Topic Write per topic (29 per partition); transactional data also needs TransactionalId Write (53 on every partition). */
export const produceRule: ApiRule<ProduceRequest, ProduceResponse> = {
  scanChecks: { transactionalId: ['transactionalId', 'write'], 'topicData[].name': ['topic', 'write'] },
  authorize(req, { access }) {
    if (req.transactionalId !== null && !access.check('transactionalId', req.transactionalId, 'write')) {
      return { action: 'answer', response: { ...defaultProduceResponse(), responses: produceErrors(req.topicData, TRANSACTIONAL_ID_AUTHORIZATION_FAILED) } };
    }
    const [allowed, denied] = partition(req.topicData, (t) => access.check('topic', t.name, 'write'));
    return denyEach(
      allowed,
      produceErrors(denied, TOPIC_AUTHORIZATION_FAILED),
      (responses) => ({ ...defaultProduceResponse(), responses }),
      (topicData) => ({ ...req, topicData }),
      (resp) => resp.responses,
    );
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

/** Fetch sessions (KIP-227) exist from this version on. */
const FETCH_SESSIONS_FROM = 7;
/** A fetch with this epoch asks for a full fetch without a session. */
const FINAL_EPOCH = -1;

/**
 * Fetch: Topic Read per topic (29 per partition). The denied topics' errors are put in front of
 * the broker's answer for the allowed ones while it streams through (never held). From v13 topics come by id: a name the proxy
 * cannot learn answers UNKNOWN_TOPIC_ID (100), so the client refreshes its metadata. A fetch
 * as a follower replica is broker traffic (ClusterAction) and always refused.
 *
 * Fetch sessions are kept out: an incremental fetch names only what changed, so the broker
 * would go on serving partitions the proxy no longer checks (after a policy reload, or for
 * another principal guessing a session id). Requests to open a session are sent as full
 * fetches without one (epoch -1), which clients answer by fetching in full every time, and
 * a request naming a session gets FETCH_SESSION_ID_NOT_FOUND, after which clients start over.
 */
export const fetchRule: ApiRule<FetchRequest, FetchResponse> = {
  topicIds: (req, version) => (version >= FETCH_TOPIC_IDS_FROM ? req.topics.map((t) => t.topicId) : []),
  authorize(req, ctx): Outcome<FetchResponse> {
    if (fetchReplicaId(req, ctx.version) >= 0) {
      ctx.access.refuse('cluster', 'kafka-cluster', 'cluster-action');
      return { action: 'answer', response: { ...defaultFetchResponse(), errorCode: CLUSTER_AUTHORIZATION_FAILED } };
    }
    const sessions = ctx.version >= FETCH_SESSIONS_FROM;
    if (sessions && (req.sessionId !== 0 || req.sessionEpoch > 0)) {
      return { action: 'answer', response: { ...defaultFetchResponse(), errorCode: FETCH_SESSION_ID_NOT_FOUND } };
    }
    const opensSession = sessions && req.sessionEpoch !== FINAL_EPOCH;
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
    const sessionless = opensSession ? { ...req, sessionEpoch: FINAL_EPOCH } : req;
    if (denied.length === 0) return opensSession ? { action: 'rebuild', request: sessionless } : FORWARD;
    const errors = fetchErrors(denied, (t) => (unknown.has(t) ? UNKNOWN_TOPIC_ID : TOPIC_AUTHORIZATION_FAILED));
    if (allowed.length === 0) return { action: 'answer', response: { ...defaultFetchResponse(), responses: errors } };
    return { action: 'rebuild', request: { ...sessionless, topics: allowed }, leading: errors };
  },
};

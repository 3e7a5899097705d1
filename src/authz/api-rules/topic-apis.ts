import { ZERO_UUID } from '../../protocol/codec-support.js';
import { API_KEYS } from '../../protocol/generated/apis.js';
import type { AlterConfigsRequest } from '../../protocol/generated/messages/AlterConfigsRequest.js';
import {
  type AlterConfigsResponse,
  defaultAlterConfigsResponse,
  defaultAlterConfigsResponseAlterConfigsResourceResponse,
} from '../../protocol/generated/messages/AlterConfigsResponse.js';
import type { CreatePartitionsRequest } from '../../protocol/generated/messages/CreatePartitionsRequest.js';
import {
  type CreatePartitionsResponse,
  defaultCreatePartitionsResponse,
  defaultCreatePartitionsResponseCreatePartitionsTopicResult,
} from '../../protocol/generated/messages/CreatePartitionsResponse.js';
import type { CreateTopicsRequest } from '../../protocol/generated/messages/CreateTopicsRequest.js';
import {
  type CreateTopicsResponse,
  defaultCreateTopicsResponse,
  defaultCreateTopicsResponseCreatableTopicResult,
} from '../../protocol/generated/messages/CreateTopicsResponse.js';
import type { DeleteRecordsRequest } from '../../protocol/generated/messages/DeleteRecordsRequest.js';
import {
  type DeleteRecordsResponse,
  defaultDeleteRecordsResponse,
  defaultDeleteRecordsResponseDeleteRecordsPartitionResult,
  defaultDeleteRecordsResponseDeleteRecordsTopicResult,
} from '../../protocol/generated/messages/DeleteRecordsResponse.js';
import type { DeleteTopicsRequest, DeleteTopicsRequestDeleteTopicState } from '../../protocol/generated/messages/DeleteTopicsRequest.js';
import {
  type DeleteTopicsResponse,
  type DeleteTopicsResponseDeletableTopicResult,
  defaultDeleteTopicsResponse,
  defaultDeleteTopicsResponseDeletableTopicResult,
} from '../../protocol/generated/messages/DeleteTopicsResponse.js';
import type { DescribeConfigsRequest } from '../../protocol/generated/messages/DescribeConfigsRequest.js';
import {
  type DescribeConfigsResponse,
  defaultDescribeConfigsResponse,
  defaultDescribeConfigsResponseDescribeConfigsResult,
} from '../../protocol/generated/messages/DescribeConfigsResponse.js';
import type { DescribeProducersRequest } from '../../protocol/generated/messages/DescribeProducersRequest.js';
import {
  type DescribeProducersResponse,
  defaultDescribeProducersResponse,
  defaultDescribeProducersResponsePartitionResponse,
  defaultDescribeProducersResponseTopicResponse,
} from '../../protocol/generated/messages/DescribeProducersResponse.js';
import type { IncrementalAlterConfigsRequest } from '../../protocol/generated/messages/IncrementalAlterConfigsRequest.js';
import {
  type IncrementalAlterConfigsResponse,
  defaultIncrementalAlterConfigsResponse,
  defaultIncrementalAlterConfigsResponseAlterConfigsResourceResponse,
} from '../../protocol/generated/messages/IncrementalAlterConfigsResponse.js';
import type { ListOffsetsRequest } from '../../protocol/generated/messages/ListOffsetsRequest.js';
import {
  type ListOffsetsResponse,
  defaultListOffsetsResponse,
  defaultListOffsetsResponseListOffsetsPartitionResponse,
  defaultListOffsetsResponseListOffsetsTopicResponse,
} from '../../protocol/generated/messages/ListOffsetsResponse.js';
import type { OffsetForLeaderEpochRequest, OffsetForLeaderEpochRequestOffsetForLeaderTopic } from '../../protocol/generated/messages/OffsetForLeaderEpochRequest.js';
import {
  type OffsetForLeaderEpochResponse,
  defaultOffsetForLeaderEpochResponse,
  defaultOffsetForLeaderEpochResponseEpochEndOffset,
  defaultOffsetForLeaderEpochResponseOffsetForLeaderTopicResult,
} from '../../protocol/generated/messages/OffsetForLeaderEpochResponse.js';
import type { SessionAccess } from '../session-access.js';
import { describeTopicPartitionsRule } from './describe-topic-partitions.js';
import { CLUSTER_AUTHORIZATION_FAILED, KAFKA_MESSAGE, TOPIC_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_ID } from './errors.js';
import { type ApiRule, type RuleContext, type RuleTable, denyEach, partition } from './rule.js';

/** Names that appear more than once in `names`. */
function repeated(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const name of names) (seen.has(name) ? twice : seen).add(name);
  return twice;
}

/** Kafka's Topic.isValid: what a broker refuses as INVALID_TOPIC_EXCEPTION before any authorization. */
export function isValidTopicName(name: string): boolean {
  return name.length > 0 && name.length <= 249 && name !== '.' && name !== '..' && /^[a-zA-Z0-9._-]+$/.test(name);
}

/** ListOffsets: Topic Describe per topic (29 on each partition, no offsets). */
const listOffsetsRule: ApiRule<ListOffsetsRequest, ListOffsetsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.name, 'describe'));
    const errors: ListOffsetsResponse['topics'] = denied.map((t) => ({
      ...defaultListOffsetsResponseListOffsetsTopicResponse(),
      name: t.name,
      partitions: t.partitions.map((p) => ({ ...defaultListOffsetsResponseListOffsetsPartitionResponse(), partitionIndex: p.partitionIndex, errorCode: TOPIC_AUTHORIZATION_FAILED })),
    }));
    return denyEach(allowed, errors, (topics) => ({ ...defaultListOffsetsResponse(), topics }), (topics) => ({ ...req, topics }), (resp) => resp.topics);
  },
};

function epochErrors(topics: readonly OffsetForLeaderEpochRequestOffsetForLeaderTopic[], errorCode: number): OffsetForLeaderEpochResponse['topics'] {
  return topics.map((t) => ({
    ...defaultOffsetForLeaderEpochResponseOffsetForLeaderTopicResult(),
    topic: t.topic,
    partitions: t.partitions.map((p) => ({ ...defaultOffsetForLeaderEpochResponseEpochEndOffset(), partition: p.partition, errorCode })),
  }));
}

/**
 * OffsetForLeaderEpoch: Topic Describe per topic (29 on each partition). As in Kafka
 * (KafkaApis.handleOffsetForLeaderEpochRequest), the replica id plays no part: Cluster
 * ClusterAction would cover every topic, but is never a client's.
 */
const offsetForLeaderEpochRule: ApiRule<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.topic, 'describe'));
    return denyEach(
      allowed,
      epochErrors(denied, TOPIC_AUTHORIZATION_FAILED),
      (topics) => ({ ...defaultOffsetForLeaderEpochResponse(), topics }),
      (topics) => ({ ...req, topics }),
      (resp) => resp.topics,
    );
  },
};

/** The topic a KRaft controller refuses to create whoever asks (INVALID_REQUEST). */
const CLUSTER_METADATA_TOPIC = '__cluster_metadata';
/** CreateTopics answers with the new topic's configs, partitions and replication factor from this version on. */
const CREATE_TOPICS_CONFIGS_FROM = 5;

/**
 * CreateTopics, as a KRaft controller decides (ControllerApis.createTopics): Cluster Create
 * covers every topic, else each needs Topic Create (29, "Authorization failed."). The cluster
 * grant is looked up without logging a denial, as Kafka does, since a topic grant may still
 * allow the creation. A name given twice, and __cluster_metadata, are refused with
 * INVALID_REQUEST before any authorization: they go to the broker unchecked, which refuses
 * them the same way. A created topic's configs, partition count and replication factor (v5+)
 * are shown only with Topic DescribeConfigs; without it they are blanked and its
 * topicConfigErrorCode is 29.
 */
const createTopicsRule: ApiRule<CreateTopicsRequest, CreateTopicsResponse> = {
  authorize(req, { access, version }) {
    const clusterWide = access.grants.allows('cluster', '', 'create');
    const refusedByBroker = repeated(req.topics.map((t) => t.name)).add(CLUSTER_METADATA_TOPIC);
    const [allowed, denied] = partition(req.topics, (t) => {
      if (refusedByBroker.has(t.name)) return true;
      if (!clusterWide) return access.check('topic', t.name, 'create');
      // Covered by the cluster grant; recorded all the same, so a suggested policy grants the topic rather than the cluster.
      access.recordUse('topic', t.name, 'create');
      return true;
    });
    const errors: CreateTopicsResponse['topics'] = denied.map((t) => ({
      ...defaultCreateTopicsResponseCreatableTopicResult(),
      name: t.name,
      errorCode: TOPIC_AUTHORIZATION_FAILED,
      errorMessage: 'Authorization failed.',
    }));
    const outcome = denyEach(allowed, errors, (topics) => ({ ...defaultCreateTopicsResponse(), topics }), (topics) => ({ ...req, topics }), (resp) => resp.topics);
    if (outcome.action === 'answer' || version < CREATE_TOPICS_CONFIGS_FROM) return outcome;
    if (allowed.every((t) => refusedByBroker.has(t.name) || access.permits('topic', t.name, 'describe-configs'))) return outcome;
    const merge = outcome.action === 'rebuild' ? outcome.edit : undefined;
    const edit = (resp: CreateTopicsResponse) => {
      for (const t of resp.topics) {
        if (t.errorCode !== 0 || access.permits('topic', t.name, 'describe-configs')) continue;
        t.configs = [];
        t.numPartitions = -1;
        t.replicationFactor = -1;
        t.topicConfigErrorCode = TOPIC_AUTHORIZATION_FAILED;
      }
      merge?.(resp);
    };
    return outcome.action === 'rebuild' ? { ...outcome, edit } : { action: 'forward', edit };
  },
};

/** DeleteTopics names topics in `topics`, by name or by id, from this version on; before, in `topicNames`. */
const DELETE_TOPICS_BY_ID_FROM = 6;

function deletionError(name: string | null, topicId: string, errorCode: number): DeleteTopicsResponseDeletableTopicResult {
  return { ...defaultDeleteTopicsResponseDeletableTopicResult(), name, topicId, errorCode, errorMessage: KAFKA_MESSAGE[errorCode] };
}

/** The error a v6 entry is answered with, or undefined when it may go to the broker. */
function deletionDenial(t: DeleteTopicsRequestDeleteTopicState, ctx: RuleContext): DeleteTopicsResponseDeletableTopicResult | undefined {
  // An entry naming nothing (no name, zero id) is the broker's to reject as invalid.
  if (t.name === null && t.topicId === ZERO_UUID) return undefined;
  const name = t.name ?? ctx.topicName(t.topicId);
  if (name === undefined) return deletionError(null, t.topicId, UNKNOWN_TOPIC_ID);
  if (ctx.access.check('topic', name, 'delete')) return undefined;
  // A topic named by id is answered with its name only if the principal may describe it.
  return deletionError(t.name ?? (ctx.access.permits('topic', name, 'describe') ? name : null), t.topicId, TOPIC_AUTHORIZATION_FAILED);
}

/**
 * DeleteTopics: Topic Delete per topic (29), answered as a KRaft controller does. From v6 a
 * topic may be named by id: an id the proxy cannot name gets UNKNOWN_TOPIC_ID (100), so the
 * client refreshes its metadata.
 */
const deleteTopicsRule: ApiRule<DeleteTopicsRequest, DeleteTopicsResponse> = {
  topicIds: (req, version) =>
    version >= DELETE_TOPICS_BY_ID_FROM ? req.topics.filter((t) => t.name === null && t.topicId !== ZERO_UUID).map((t) => t.topicId) : [],
  authorize(req, ctx) {
    const answer = (responses: DeleteTopicsResponseDeletableTopicResult[]) => ({ ...defaultDeleteTopicsResponse(), responses });
    const list = (resp: DeleteTopicsResponse) => resp.responses;
    if (ctx.version < DELETE_TOPICS_BY_ID_FROM) {
      const [allowed, denied] = partition(req.topicNames, (name) => ctx.access.check('topic', name, 'delete'));
      const errors = denied.map((name) => deletionError(name, ZERO_UUID, TOPIC_AUTHORIZATION_FAILED));
      return denyEach(allowed, errors, answer, (topicNames) => ({ ...req, topicNames }), list);
    }
    const allowed: DeleteTopicsRequestDeleteTopicState[] = [];
    const errors: DeleteTopicsResponseDeletableTopicResult[] = [];
    for (const t of req.topics) {
      const error = deletionDenial(t, ctx);
      if (error) errors.push(error);
      else allowed.push(t);
    }
    return denyEach(allowed, errors, answer, (topics) => ({ ...req, topics }), list);
  },
};

/** DeleteRecords: Topic Delete per topic (29 on each partition, with no low watermark: -1). */
const deleteRecordsRule: ApiRule<DeleteRecordsRequest, DeleteRecordsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.name, 'delete'));
    const errors: DeleteRecordsResponse['topics'] = denied.map((t) => ({
      ...defaultDeleteRecordsResponseDeleteRecordsTopicResult(),
      name: t.name,
      partitions: t.partitions.map((p) => ({
        ...defaultDeleteRecordsResponseDeleteRecordsPartitionResult(),
        partitionIndex: p.partitionIndex,
        lowWatermark: -1n,
        errorCode: TOPIC_AUTHORIZATION_FAILED,
      })),
    }));
    return denyEach(allowed, errors, (topics) => ({ ...defaultDeleteRecordsResponse(), topics }), (topics) => ({ ...req, topics }), (resp) => resp.topics);
  },
};

/**
 * CreatePartitions: Topic Alter per topic (29, no message, as a KRaft controller answers). A name
 * given twice is refused with INVALID_REQUEST before any authorization (ControllerApis.createPartitions):
 * it goes to the broker unchecked, which refuses it the same way.
 */
const createPartitionsRule: ApiRule<CreatePartitionsRequest, CreatePartitionsResponse> = {
  authorize(req, { access }) {
    const refusedByBroker = repeated(req.topics.map((t) => t.name));
    const [allowed, denied] = partition(req.topics, (t) => refusedByBroker.has(t.name) || access.check('topic', t.name, 'alter'));
    const errors: CreatePartitionsResponse['results'] = denied.map((t) => ({ ...defaultCreatePartitionsResponseCreatePartitionsTopicResult(), name: t.name, errorCode: TOPIC_AUTHORIZATION_FAILED, errorMessage: null }));
    return denyEach(allowed, errors, (results) => ({ ...defaultCreatePartitionsResponse(), results }), (topics) => ({ ...req, topics }), (resp) => resp.results);
  },
};

/**
 * DescribeProducers: Topic Read per topic (29 on each partition, with Kafka's message). An invalid
 * topic name is answered INVALID_TOPIC_EXCEPTION before any authorization
 * (KafkaApis.handleDescribeProducersRequest): it goes to the broker unchecked.
 */
const describeProducersRule: ApiRule<DescribeProducersRequest, DescribeProducersResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.topics, (t) => !isValidTopicName(t.name) || access.check('topic', t.name, 'read'));
    const errors: DescribeProducersResponse['topics'] = denied.map((t) => ({
      ...defaultDescribeProducersResponseTopicResponse(),
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({
        ...defaultDescribeProducersResponsePartitionResponse(),
        partitionIndex,
        errorCode: TOPIC_AUTHORIZATION_FAILED,
        errorMessage: KAFKA_MESSAGE[TOPIC_AUTHORIZATION_FAILED],
      })),
    }));
    return denyEach(allowed, errors, (topics) => ({ ...defaultDescribeProducersResponse(), topics }), (topics) => ({ ...req, topics }), (resp) => resp.topics);
  },
};

/** Kafka's ConfigResource type for topics; every other type (brokers, loggers, client metrics, types unknown here) is checked as the cluster. */
const TOPIC_CONFIG_RESOURCE = 2;

interface ConfigResource {
  resourceType: number;
  resourceName: string;
}

/** The config resources allowed `op`, and the denied ones with the error each gets (29 for a topic, 31 otherwise). */
function checkConfigResources<R extends ConfigResource>(
  resources: readonly R[],
  access: SessionAccess,
  op: 'describe-configs' | 'alter-configs',
): [R[], { resource: R; errorCode: number }[]] {
  const denied: { resource: R; errorCode: number }[] = [];
  const [allowed] = partition(resources, (resource) => {
    const topic = resource.resourceType === TOPIC_CONFIG_RESOURCE;
    if (topic ? access.check('topic', resource.resourceName, op) : access.check('cluster', '', op)) return true;
    denied.push({ resource, errorCode: topic ? TOPIC_AUTHORIZATION_FAILED : CLUSTER_AUTHORIZATION_FAILED });
    return false;
  });
  return [allowed, denied];
}

/** A denied config resource's response entry, with the message Kafka gives its code. */
function configError({ resource, errorCode }: { resource: ConfigResource; errorCode: number }) {
  return { errorCode, errorMessage: KAFKA_MESSAGE[errorCode], resourceType: resource.resourceType, resourceName: resource.resourceName };
}

/** DescribeConfigs: Topic DescribeConfigs for topics (29), Cluster DescribeConfigs for everything else (31). */
const describeConfigsRule: ApiRule<DescribeConfigsRequest, DescribeConfigsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = checkConfigResources(req.resources, access, 'describe-configs');
    const errors: DescribeConfigsResponse['results'] = denied.map((d) => ({ ...defaultDescribeConfigsResponseDescribeConfigsResult(), ...configError(d) }));
    return denyEach(allowed, errors, (results) => ({ ...defaultDescribeConfigsResponse(), results }), (resources) => ({ ...req, resources }), (resp) => resp.results);
  },
};

/** AlterConfigs: Topic AlterConfigs for topics (29), Cluster AlterConfigs for everything else (31). */
const alterConfigsRule: ApiRule<AlterConfigsRequest, AlterConfigsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = checkConfigResources(req.resources, access, 'alter-configs');
    const errors: AlterConfigsResponse['responses'] = denied.map((d) => ({ ...defaultAlterConfigsResponseAlterConfigsResourceResponse(), ...configError(d) }));
    return denyEach(allowed, errors, (responses) => ({ ...defaultAlterConfigsResponse(), responses }), (resources) => ({ ...req, resources }), (resp) => resp.responses);
  },
};

/** IncrementalAlterConfigs: as AlterConfigs. */
const incrementalAlterConfigsRule: ApiRule<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = checkConfigResources(req.resources, access, 'alter-configs');
    const errors: IncrementalAlterConfigsResponse['responses'] = denied.map((d) => ({ ...defaultIncrementalAlterConfigsResponseAlterConfigsResourceResponse(), ...configError(d) }));
    return denyEach(
      allowed,
      errors,
      (responses) => ({ ...defaultIncrementalAlterConfigsResponse(), responses }),
      (resources) => ({ ...req, resources }),
      (resp) => resp.responses,
    );
  },
};

/** APIs on topics and their configs. */
export const TOPIC_RULES: RuleTable = {
  [API_KEYS.ListOffsets]: listOffsetsRule,
  [API_KEYS.OffsetForLeaderEpoch]: offsetForLeaderEpochRule,
  [API_KEYS.DescribeTopicPartitions]: describeTopicPartitionsRule,
  [API_KEYS.CreateTopics]: createTopicsRule,
  [API_KEYS.DeleteTopics]: deleteTopicsRule,
  [API_KEYS.DeleteRecords]: deleteRecordsRule,
  [API_KEYS.CreatePartitions]: createPartitionsRule,
  [API_KEYS.DescribeProducers]: describeProducersRule,
  [API_KEYS.DescribeConfigs]: describeConfigsRule,
  [API_KEYS.AlterConfigs]: alterConfigsRule,
  [API_KEYS.IncrementalAlterConfigs]: incrementalAlterConfigsRule,
};

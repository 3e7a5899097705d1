import { API_KEYS } from '../../protocol/generated/apis.js';
import type { ConsumerGroupDescribeRequest } from '../../protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import {
  type ConsumerGroupDescribeResponse,
  defaultConsumerGroupDescribeResponse,
  defaultConsumerGroupDescribeResponseDescribedGroup,
} from '../../protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import { type ConsumerGroupHeartbeatResponse, defaultConsumerGroupHeartbeatResponse } from '../../protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import type { DeleteGroupsRequest } from '../../protocol/generated/messages/DeleteGroupsRequest.js';
import { type DeleteGroupsResponse, defaultDeleteGroupsResponse } from '../../protocol/generated/messages/DeleteGroupsResponse.js';
import type { DescribeGroupsRequest } from '../../protocol/generated/messages/DescribeGroupsRequest.js';
import {
  type DescribeGroupsResponse,
  defaultDescribeGroupsResponse,
  defaultDescribeGroupsResponseDescribedGroup,
} from '../../protocol/generated/messages/DescribeGroupsResponse.js';
import type { FindCoordinatorRequest } from '../../protocol/generated/messages/FindCoordinatorRequest.js';
import {
  type FindCoordinatorResponse,
  type FindCoordinatorResponseCoordinator,
  defaultFindCoordinatorResponse,
  defaultFindCoordinatorResponseCoordinator,
} from '../../protocol/generated/messages/FindCoordinatorResponse.js';
import type { HeartbeatRequest } from '../../protocol/generated/messages/HeartbeatRequest.js';
import { type HeartbeatResponse, defaultHeartbeatResponse } from '../../protocol/generated/messages/HeartbeatResponse.js';
import type { JoinGroupRequest } from '../../protocol/generated/messages/JoinGroupRequest.js';
import { type JoinGroupResponse, defaultJoinGroupResponse } from '../../protocol/generated/messages/JoinGroupResponse.js';
import type { LeaveGroupRequest } from '../../protocol/generated/messages/LeaveGroupRequest.js';
import { type LeaveGroupResponse, defaultLeaveGroupResponse } from '../../protocol/generated/messages/LeaveGroupResponse.js';
import type { ListGroupsRequest } from '../../protocol/generated/messages/ListGroupsRequest.js';
import type { ListGroupsResponse } from '../../protocol/generated/messages/ListGroupsResponse.js';
import type { OffsetCommitRequest } from '../../protocol/generated/messages/OffsetCommitRequest.js';
import { type OffsetCommitResponse, defaultOffsetCommitResponse } from '../../protocol/generated/messages/OffsetCommitResponse.js';
import type { OffsetDeleteRequest } from '../../protocol/generated/messages/OffsetDeleteRequest.js';
import { type OffsetDeleteResponse, defaultOffsetDeleteResponse } from '../../protocol/generated/messages/OffsetDeleteResponse.js';
import type { OffsetFetchRequest, OffsetFetchRequestTopic } from '../../protocol/generated/messages/OffsetFetchRequest.js';
import {
  type OffsetFetchResponse,
  type OffsetFetchResponseGroup,
  type OffsetFetchResponseTopic,
  defaultOffsetFetchResponse,
  defaultOffsetFetchResponseGroup,
  defaultOffsetFetchResponsePartition,
} from '../../protocol/generated/messages/OffsetFetchResponse.js';
import type { SyncGroupRequest } from '../../protocol/generated/messages/SyncGroupRequest.js';
import { type SyncGroupResponse, defaultSyncGroupResponse } from '../../protocol/generated/messages/SyncGroupResponse.js';
import { authorizedOperations } from '../authorized-operations.js';
import type { SessionAccess } from '../session-access.js';
import {
  CLUSTER_AUTHORIZATION_FAILED,
  GROUP_AUTHORIZATION_FAILED,
  INCONSISTENT_GROUP_PROTOCOL,
  INVALID_REQUEST,
  KAFKA_MESSAGE,
  TOPIC_AUTHORIZATION_FAILED,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
} from './errors.js';
import { type ApiRule, FORWARD, type Outcome, type RuleTable, appendAll, denyEach, partition } from './rule.js';

/** A topic and the partitions a commit or offset-delete request names in it. */
interface TopicPartitions {
  name: string;
  partitions: readonly { partitionIndex: number }[];
}

/** The per-partition results of commit and offset-delete responses. */
export type PartitionErrors = { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];

/** Every partition of `topics` with the same error. */
export function partitionErrors(topics: readonly TopicPartitions[], errorCode: number): PartitionErrors {
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
}

/** Sets the policy's authorized operations on the groups the broker describes, before the denied ones are merged in. */
function withAuthorizedOperations<Resp>(
  outcome: Outcome<Resp>,
  groups: (resp: Resp) => { errorCode: number; groupId: string; authorizedOperations: number }[],
  access: SessionAccess,
): Outcome<Resp> {
  if (outcome.action === 'answer') return outcome;
  const merge = outcome.edit;
  const edit = (resp: Resp) => {
    // As Kafka: only groups described without an error get the field.
    for (const g of groups(resp)) if (g.errorCode === 0) g.authorizedOperations = authorizedOperations(access.grants, 'group', g.groupId);
    merge?.(resp);
  };
  return outcome.action === 'rebuild' ? { ...outcome, edit } : { action: 'forward', edit };
}

/** OffsetCommit: Group Read (30 on every partition: the response has no top-level error), then Topic Read per topic (29). */
const offsetCommitRule: ApiRule<OffsetCommitRequest, OffsetCommitResponse> = {
  authorize(req, { access }) {
    if (!access.check('group', req.groupId, 'read')) {
      return { action: 'answer', response: { ...defaultOffsetCommitResponse(), topics: partitionErrors(req.topics, GROUP_AUTHORIZATION_FAILED) } };
    }
    const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.name, 'read'));
    return denyEach(
      allowed,
      partitionErrors(denied, TOPIC_AUTHORIZATION_FAILED),
      (topics) => ({ ...defaultOffsetCommitResponse(), topics }),
      (topics) => ({ ...req, topics }),
      (resp) => resp.topics,
    );
  },
};

/** OffsetFetch names groups in a list from this version on; before, the request is for one group. */
const OFFSET_FETCH_GROUPS_FROM = 8;
/** OffsetFetch has a top-level error code from this version on. */
const OFFSET_FETCH_ERROR_CODE_FROM = 2;

/** A denied topic's offsets: none (-1), as a broker reports them. */
function offsetFetchErrors(topics: readonly OffsetFetchRequestTopic[], errorCode: number): OffsetFetchResponseTopic[] {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => ({ ...defaultOffsetFetchResponsePartition(), partitionIndex, committedOffset: -1n, errorCode })),
  }));
}

/** A listing of all of a group's offsets silently leaves out the topics the principal may not describe. */
function describableTopics<T extends { name: string }>(topics: T[], access: SessionAccess): T[] {
  return topics.filter((t) => access.permits('topic', t.name, 'describe'));
}

/**
 * OffsetFetch v0-7, one group: Group Describe, then Topic Describe per named topic; all topics
 * (null) are filtered. A denied group before v2 gets 30 on every partition named: Kafka 3.9's
 * own v1 answer has no topics at all (the coordinator's empty group answer converted), which
 * would hide the error.
 */
function authorizeOffsetFetchGroup(req: OffsetFetchRequest, access: SessionAccess, version: number): Outcome<OffsetFetchResponse> {
  if (!access.check('group', req.groupId, 'describe')) {
    // Before v2 the error can only be given per partition.
    const topics = version < OFFSET_FETCH_ERROR_CODE_FROM ? offsetFetchErrors(req.topics ?? [], GROUP_AUTHORIZATION_FAILED) : [];
    return { action: 'answer', response: { ...defaultOffsetFetchResponse(), errorCode: GROUP_AUTHORIZATION_FAILED, topics } };
  }
  if (req.topics === null) return { action: 'forward', edit: (resp) => void (resp.topics = describableTopics(resp.topics, access)) };
  const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.name, 'describe'));
  const outcome = denyEach(
    allowed,
    offsetFetchErrors(denied, TOPIC_AUTHORIZATION_FAILED),
    (topics) => ({ ...defaultOffsetFetchResponse(), topics }),
    (topics) => ({ ...req, topics }),
    (resp) => resp.topics,
  );
  // As Kafka: a group the coordinator answers with an error (v2+) gets that answer alone.
  if (outcome.action !== 'rebuild') return outcome;
  const merge = outcome.edit!;
  return { ...outcome, edit: (resp) => void (resp.errorCode === 0 && merge(resp)) };
}

/**
 * OffsetFetch v8+, per group: a denied group gets its own entry with 30; an allowed group is
 * forwarded with its describable topics only, and the broker's entry for it gets the others
 * back with 29 unless it carries a group error (or, for all topics, loses the ones the
 * principal may not describe).
 */
function authorizeOffsetFetchGroups(req: OffsetFetchRequest, access: SessionAccess): Outcome<OffsetFetchResponse> {
  const [allowed, denied] = partition(req.groups, (g) => access.check('group', g.groupId, 'describe'));
  const deniedGroups: OffsetFetchResponseGroup[] = denied.map((g) => ({
    ...defaultOffsetFetchResponseGroup(),
    groupId: g.groupId,
    errorCode: GROUP_AUTHORIZATION_FAILED,
  }));
  if (allowed.length === 0) return { action: 'answer', response: { ...defaultOffsetFetchResponse(), groups: deniedGroups } };
  const deniedTopics = new Map<string, OffsetFetchResponseTopic[]>();
  const forwarded = allowed.map((g) => {
    if (g.topics === null) return g;
    const [yes, no] = partition(g.topics, (t) => access.check('topic', t.name, 'describe'));
    if (no.length === 0) return g;
    deniedTopics.set(g.groupId, offsetFetchErrors(no, TOPIC_AUTHORIZATION_FAILED));
    return { ...g, topics: yes };
  });
  const edit = (resp: OffsetFetchResponse) => {
    for (const g of resp.groups) {
      g.topics = describableTopics(g.topics, access);
      // As Kafka: a group the coordinator answers with an error gets that answer alone.
      if (g.errorCode === 0) appendAll(g.topics, deniedTopics.get(g.groupId) ?? []);
    }
    appendAll(resp.groups, deniedGroups);
  };
  if (denied.length > 0 || deniedTopics.size > 0) return { action: 'rebuild', request: { ...req, groups: forwarded }, edit };
  return allowed.some((g) => g.topics === null) ? { action: 'forward', edit } : FORWARD;
}

const offsetFetchRule: ApiRule<OffsetFetchRequest, OffsetFetchResponse> = {
  authorize: (req, { access, version }) =>
    version >= OFFSET_FETCH_GROUPS_FROM ? authorizeOffsetFetchGroups(req, access) : authorizeOffsetFetchGroup(req, access, version),
};

/** FindCoordinator key types. */
const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;
/** Share-group coordinators (KIP-932): looked up by brokers only, with ClusterAction. */
const SHARE_KEY = 2;
/** FindCoordinator has one key per request before this version, a list from it on. */
const FIND_COORDINATOR_KEYS_FROM = 4;
/** FindCoordinator knows share keys from this version on. */
const FIND_COORDINATOR_SHARE_KEYS_FROM = 6;
/** Where a denied key's coordinator is: nowhere. */
const NO_NODE = { nodeId: -1, host: '', port: -1 } as const;

/**
 * The error a coordinator key is answered with, or 0 when it may be looked up: what the key
 * names depends on the key type (KafkaApis.getCoordinator). A share key needs ClusterAction,
 * which is never a client's: 31 from v6, INVALID_REQUEST (42) before.
 */
function coordinatorKeyError(keyType: number, key: string, access: SessionAccess, version: number): number {
  if (keyType === GROUP_KEY) return access.check('group', key, 'describe') ? 0 : GROUP_AUTHORIZATION_FAILED;
  if (keyType === TRANSACTION_KEY) return access.check('transactionalId', key, 'describe') ? 0 : TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  if (version < FIND_COORDINATOR_SHARE_KEYS_FROM) return INVALID_REQUEST;
  access.refuse('cluster', 'kafka-cluster', 'cluster-action');
  return CLUSTER_AUTHORIZATION_FAILED;
}

/**
 * FindCoordinator: Group Describe (30) or TransactionalId Describe (53), per key from v4; share
 * keys as coordinatorKeyError says. Before v4 the error carries Kafka's message for its code; an
 * unknown key type is INVALID_REQUEST (42) with its message on every key, as Kafka answers the
 * request it cannot parse.
 */
const findCoordinatorRule: ApiRule<FindCoordinatorRequest, FindCoordinatorResponse> = {
  authorize(req, { access, version }) {
    const knownKeyType = req.keyType === GROUP_KEY || req.keyType === TRANSACTION_KEY || req.keyType === SHARE_KEY;
    if (version < FIND_COORDINATOR_KEYS_FROM) {
      const errorCode = knownKeyType ? coordinatorKeyError(req.keyType, req.key, access, version) : INVALID_REQUEST;
      if (errorCode === 0) return FORWARD;
      return { action: 'answer', response: { ...defaultFindCoordinatorResponse(), errorCode, errorMessage: KAFKA_MESSAGE[errorCode], ...NO_NODE } };
    }
    if (!knownKeyType) {
      const coordinators = req.coordinatorKeys.map((key) => ({
        ...defaultFindCoordinatorResponseCoordinator(),
        key,
        errorCode: INVALID_REQUEST,
        errorMessage: KAFKA_MESSAGE[INVALID_REQUEST],
        ...NO_NODE,
      }));
      return { action: 'answer', response: { ...defaultFindCoordinatorResponse(), coordinators } };
    }
    const allowed: string[] = [];
    const denied: FindCoordinatorResponseCoordinator[] = [];
    for (const key of req.coordinatorKeys) {
      const errorCode = coordinatorKeyError(req.keyType, key, access, version);
      if (errorCode === 0) allowed.push(key);
      else denied.push({ ...defaultFindCoordinatorResponseCoordinator(), key, errorCode, errorMessage: null, ...NO_NODE });
    }
    return denyEach(
      allowed,
      denied,
      (coordinators) => ({ ...defaultFindCoordinatorResponse(), coordinators }),
      (coordinatorKeys) => ({ ...req, coordinatorKeys }),
      (resp) => resp.coordinators,
    );
  },
};

/** The group membership APIs: Group Read, else `denied`, a response with the top-level error. */
function groupReadRule<Req extends { groupId: string }, Resp>(denied: (req: Req, version: number) => Resp): ApiRule<Req, Resp> {
  return {
    authorize: (req, { access, version }) => (access.check('group', req.groupId, 'read') ? FORWARD : { action: 'answer', response: denied(req, version) }),
  };
}

/** JoinGroup's protocol name is nullable from this version on; a broker sends null with an error. */
const JOIN_GROUP_NULLABLE_PROTOCOL_FROM = 7;

/** As JoinGroupRequest.getErrorResponse: no generation, no member id, no leader. */
const joinGroupRule = groupReadRule<JoinGroupRequest, JoinGroupResponse>((_req, version) => ({
  ...defaultJoinGroupResponse(),
  errorCode: GROUP_AUTHORIZATION_FAILED,
  generationId: -1,
  leader: '',
  memberId: '',
  protocolName: version >= JOIN_GROUP_NULLABLE_PROTOCOL_FROM ? null : '',
}));

const heartbeatRule = groupReadRule<HeartbeatRequest, HeartbeatResponse>(() => ({ ...defaultHeartbeatResponse(), errorCode: GROUP_AUTHORIZATION_FAILED }));

/** From v3 a LeaveGroup names several members; the top-level error covers them all. */
const leaveGroupRule = groupReadRule<LeaveGroupRequest, LeaveGroupResponse>(() => ({ ...defaultLeaveGroupResponse(), errorCode: GROUP_AUTHORIZATION_FAILED }));

const syncGroupReadRule = groupReadRule<SyncGroupRequest, SyncGroupResponse>(() => ({ ...defaultSyncGroupResponse(), errorCode: GROUP_AUTHORIZATION_FAILED }));

/** SyncGroup must name its protocol type and name from this version on. */
const SYNC_GROUP_PROTOCOL_REQUIRED_FROM = 5;

/**
 * SyncGroup: as Kafka, a v5+ request without protocol type or name is answered
 * INCONSISTENT_GROUP_PROTOCOL (23) before any authorization; otherwise Group Read (30).
 */
const syncGroupRule: ApiRule<SyncGroupRequest, SyncGroupResponse> = {
  authorize(req, ctx) {
    if (ctx.version >= SYNC_GROUP_PROTOCOL_REQUIRED_FROM && (req.protocolType === null || req.protocolName === null)) {
      return { action: 'answer', response: { ...defaultSyncGroupResponse(), errorCode: INCONSISTENT_GROUP_PROTOCOL } };
    }
    return syncGroupReadRule.authorize(req, ctx);
  },
};

/** Puts the denied groups' entries in front of the broker's, where Kafka lists them (KafkaApis.handleDescribeGroupsRequest). */
function deniedGroupsFirst<T, E, Resp extends { groups: E[] }>(allowed: T[], errors: E[], answer: (errors: E[]) => Resp, rebuild: (allowed: T[]) => object): Outcome<Resp> {
  const outcome = denyEach(allowed, errors, answer, rebuild, (resp: Resp) => resp.groups);
  return outcome.action === 'rebuild' ? { ...outcome, edit: (resp) => void (resp.groups = [...errors, ...resp.groups]) } : outcome;
}

/** DescribeGroups: Group Describe per group (30, listed first); authorized operations from the policy when asked for (v3+). */
const describeGroupsRule: ApiRule<DescribeGroupsRequest, DescribeGroupsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.groups, (groupId) => access.check('group', groupId, 'describe'));
    const outcome = deniedGroupsFirst(
      allowed,
      denied.map((groupId) => ({ ...defaultDescribeGroupsResponseDescribedGroup(), groupId, errorCode: GROUP_AUTHORIZATION_FAILED })),
      (groups) => ({ ...defaultDescribeGroupsResponse(), groups }),
      (groups) => ({ ...req, groups }),
    );
    return req.includeAuthorizedOperations ? withAuthorizedOperations(outcome, (resp) => resp.groups, access) : outcome;
  },
};

/** ListGroups: never an error. Cluster Describe sees every group; otherwise only the groups the principal may describe. */
const listGroupsRule: ApiRule<ListGroupsRequest, ListGroupsResponse> = {
  authorize(_req, { access }) {
    if (access.permits('cluster', '', 'describe')) return FORWARD;
    return { action: 'forward', edit: (resp) => void (resp.groups = resp.groups.filter((g) => access.permits('group', g.groupId, 'describe'))) };
  },
};

/** DeleteGroups: Group Delete per group (30), each group once, as Kafka (which ignores repeated names). */
const deleteGroupsRule: ApiRule<DeleteGroupsRequest, DeleteGroupsResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition([...new Set(req.groupsNames)], (groupId) => access.check('group', groupId, 'delete'));
    return denyEach(
      allowed,
      denied.map((groupId) => ({ groupId, errorCode: GROUP_AUTHORIZATION_FAILED })),
      (results) => ({ ...defaultDeleteGroupsResponse(), results }),
      (groupsNames) => ({ ...req, groupsNames }),
      (resp) => resp.results,
    );
  },
};

/** OffsetDelete: Group Delete (top-level 30), then Topic Read per topic (29 per partition). */
const offsetDeleteRule: ApiRule<OffsetDeleteRequest, OffsetDeleteResponse> = {
  authorize(req, { access }) {
    if (!access.check('group', req.groupId, 'delete')) {
      return { action: 'answer', response: { ...defaultOffsetDeleteResponse(), errorCode: GROUP_AUTHORIZATION_FAILED } };
    }
    const [allowed, denied] = partition(req.topics, (t) => access.check('topic', t.name, 'read'));
    return denyEach(
      allowed,
      partitionErrors(denied, TOPIC_AUTHORIZATION_FAILED),
      (topics) => ({ ...defaultOffsetDeleteResponse(), topics }),
      (topics) => ({ ...req, topics }),
      (resp) => resp.topics,
    );
  },
};

/**
 * ConsumerGroupHeartbeat (KIP-848): Group Read (30), and Topic Describe on every subscribed
 * topic (29), both top-level. Kafka 3.9 checks only the group; the topic check is Kafka 4.0's,
 * kept on purpose: without it the assignment would tell whether a topic the principal may not
 * describe exists, with its id and partition count.
 */
const consumerGroupHeartbeatRule: ApiRule<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse> = {
  authorize(req, { access }) {
    const deny = (errorCode: number): Outcome<ConsumerGroupHeartbeatResponse> => ({
      action: 'answer',
      response: { ...defaultConsumerGroupHeartbeatResponse(), errorCode },
    });
    if (!access.check('group', req.groupId, 'read')) return deny(GROUP_AUTHORIZATION_FAILED);
    // null: the subscription is unchanged since the last heartbeat. Every topic is checked, so every denial is logged.
    const unauthorized = (req.subscribedTopicNames ?? []).filter((name) => !access.check('topic', name, 'describe'));
    return unauthorized.length === 0 ? FORWARD : deny(TOPIC_AUTHORIZATION_FAILED);
  },
};

/** ConsumerGroupDescribe: Group Describe per group (30, listed first); authorized operations from the policy when asked for. */
const consumerGroupDescribeRule: ApiRule<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse> = {
  authorize(req, { access }) {
    const [allowed, denied] = partition(req.groupIds, (groupId) => access.check('group', groupId, 'describe'));
    const outcome = deniedGroupsFirst(
      allowed,
      denied.map((groupId) => ({ ...defaultConsumerGroupDescribeResponseDescribedGroup(), groupId, errorCode: GROUP_AUTHORIZATION_FAILED })),
      (groups) => ({ ...defaultConsumerGroupDescribeResponse(), groups }),
      (groupIds) => ({ ...req, groupIds }),
    );
    return req.includeAuthorizedOperations ? withAuthorizedOperations(outcome, (resp) => resp.groups, access) : outcome;
  },
};

/** The consumer-group APIs, by key. */
export const GROUP_RULES: RuleTable = {
  [API_KEYS.OffsetCommit]: offsetCommitRule,
  [API_KEYS.OffsetFetch]: offsetFetchRule,
  [API_KEYS.FindCoordinator]: findCoordinatorRule,
  [API_KEYS.JoinGroup]: joinGroupRule,
  [API_KEYS.Heartbeat]: heartbeatRule,
  [API_KEYS.LeaveGroup]: leaveGroupRule,
  [API_KEYS.SyncGroup]: syncGroupRule,
  [API_KEYS.DescribeGroups]: describeGroupsRule,
  [API_KEYS.ListGroups]: listGroupsRule,
  [API_KEYS.DeleteGroups]: deleteGroupsRule,
  [API_KEYS.OffsetDelete]: offsetDeleteRule,
  [API_KEYS.ConsumerGroupHeartbeat]: consumerGroupHeartbeatRule,
  [API_KEYS.ConsumerGroupDescribe]: consumerGroupDescribeRule,
};

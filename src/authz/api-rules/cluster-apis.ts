import { API_KEYS } from '../../protocol/generated/apis.js';
import { type AddRaftVoterResponse, defaultAddRaftVoterResponse } from '../../protocol/generated/messages/AddRaftVoterResponse.js';
import type { AlterClientQuotasRequest } from '../../protocol/generated/messages/AlterClientQuotasRequest.js';
import {
  type AlterClientQuotasResponse,
  defaultAlterClientQuotasResponse,
  defaultAlterClientQuotasResponseEntityData,
  defaultAlterClientQuotasResponseEntryData,
} from '../../protocol/generated/messages/AlterClientQuotasResponse.js';
import type { AlterPartitionReassignmentsRequest } from '../../protocol/generated/messages/AlterPartitionReassignmentsRequest.js';
import {
  type AlterPartitionReassignmentsResponse,
  defaultAlterPartitionReassignmentsResponse,
  defaultAlterPartitionReassignmentsResponseReassignablePartitionResponse,
  defaultAlterPartitionReassignmentsResponseReassignableTopicResponse,
} from '../../protocol/generated/messages/AlterPartitionReassignmentsResponse.js';
import type { AlterReplicaLogDirsRequest } from '../../protocol/generated/messages/AlterReplicaLogDirsRequest.js';
import {
  type AlterReplicaLogDirsResponse,
  defaultAlterReplicaLogDirsResponse,
  defaultAlterReplicaLogDirsResponseAlterReplicaLogDirPartitionResult,
  defaultAlterReplicaLogDirsResponseAlterReplicaLogDirTopicResult,
} from '../../protocol/generated/messages/AlterReplicaLogDirsResponse.js';
import type { AlterUserScramCredentialsRequest } from '../../protocol/generated/messages/AlterUserScramCredentialsRequest.js';
import {
  type AlterUserScramCredentialsResponse,
  defaultAlterUserScramCredentialsResponse,
  defaultAlterUserScramCredentialsResponseAlterUserScramCredentialsResult,
} from '../../protocol/generated/messages/AlterUserScramCredentialsResponse.js';
import type { CreateAclsRequest } from '../../protocol/generated/messages/CreateAclsRequest.js';
import { type CreateAclsResponse, defaultCreateAclsResponse, defaultCreateAclsResponseAclCreationResult } from '../../protocol/generated/messages/CreateAclsResponse.js';
import type { DeleteAclsRequest } from '../../protocol/generated/messages/DeleteAclsRequest.js';
import { type DeleteAclsResponse, defaultDeleteAclsResponse, defaultDeleteAclsResponseDeleteAclsFilterResult } from '../../protocol/generated/messages/DeleteAclsResponse.js';
import { type DescribeAclsResponse, defaultDescribeAclsResponse } from '../../protocol/generated/messages/DescribeAclsResponse.js';
import { type DescribeClientQuotasResponse, defaultDescribeClientQuotasResponse } from '../../protocol/generated/messages/DescribeClientQuotasResponse.js';
import type { DescribeClusterRequest } from '../../protocol/generated/messages/DescribeClusterRequest.js';
import type { DescribeClusterResponse } from '../../protocol/generated/messages/DescribeClusterResponse.js';
import { type DescribeQuorumResponse, defaultDescribeQuorumResponse } from '../../protocol/generated/messages/DescribeQuorumResponse.js';
import { type DescribeLogDirsResponse, defaultDescribeLogDirsResponse } from '../../protocol/generated/messages/DescribeLogDirsResponse.js';
import type { DescribeUserScramCredentialsRequest } from '../../protocol/generated/messages/DescribeUserScramCredentialsRequest.js';
import {
  type DescribeUserScramCredentialsResponse,
  defaultDescribeUserScramCredentialsResponse,
  defaultDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult,
} from '../../protocol/generated/messages/DescribeUserScramCredentialsResponse.js';
import type { ElectLeadersRequest } from '../../protocol/generated/messages/ElectLeadersRequest.js';
import {
  type ElectLeadersResponse,
  defaultElectLeadersResponse,
  defaultElectLeadersResponsePartitionResult,
  defaultElectLeadersResponseReplicaElectionResult,
} from '../../protocol/generated/messages/ElectLeadersResponse.js';
import { type ListClientMetricsResourcesResponse, defaultListClientMetricsResourcesResponse } from '../../protocol/generated/messages/ListClientMetricsResourcesResponse.js';
import type { ListPartitionReassignmentsRequest } from '../../protocol/generated/messages/ListPartitionReassignmentsRequest.js';
import {
  type ListPartitionReassignmentsResponse,
  defaultListPartitionReassignmentsResponse,
  defaultListPartitionReassignmentsResponseOngoingPartitionReassignment,
  defaultListPartitionReassignmentsResponseOngoingTopicReassignment,
} from '../../protocol/generated/messages/ListPartitionReassignmentsResponse.js';
import { type RemoveRaftVoterResponse, defaultRemoveRaftVoterResponse } from '../../protocol/generated/messages/RemoveRaftVoterResponse.js';
import { type UnregisterBrokerResponse, defaultUnregisterBrokerResponse } from '../../protocol/generated/messages/UnregisterBrokerResponse.js';
import { type UpdateFeaturesResponse, defaultUpdateFeaturesResponse } from '../../protocol/generated/messages/UpdateFeaturesResponse.js';
import { NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import type { Operation } from '../operations.js';
import { CLUSTER_AUTHORIZATION_FAILED, KAFKA_MESSAGE } from './errors.js';
import { NO_AUTHORIZATION } from './no-authorization.js';
import { type ApiRule, FORWARD, type RuleTable } from './rule.js';

const DENIED = CLUSTER_AUTHORIZATION_FAILED;

/** An API that needs one operation on the cluster for the whole request: forwarded, or answered with `denial` (31 where the response has room). */
function clusterRule<Req, Resp>(op: Operation, denial: (req: Req) => Resp): ApiRule<Req, Resp> {
  return { authorize: (req, { access }) => (access.check('cluster', '', op) ? FORWARD : { action: 'answer', response: denial(req) }) };
}

function createAclsDenial(req: CreateAclsRequest): CreateAclsResponse {
  return { ...defaultCreateAclsResponse(), results: req.creations.map(() => ({ ...defaultCreateAclsResponseAclCreationResult(), errorCode: DENIED, errorMessage: null })) };
}

function deleteAclsDenial(req: DeleteAclsRequest): DeleteAclsResponse {
  return {
    ...defaultDeleteAclsResponse(),
    filterResults: req.filters.map(() => ({ ...defaultDeleteAclsResponseDeleteAclsFilterResult(), errorCode: DENIED, errorMessage: null })),
  };
}

/** One result per (directory, topic), as Kafka answers. */
function alterReplicaLogDirsDenial(req: AlterReplicaLogDirsRequest): AlterReplicaLogDirsResponse {
  return {
    ...defaultAlterReplicaLogDirsResponse(),
    results: req.dirs.flatMap((dir) =>
      dir.topics.map((t) => ({
        ...defaultAlterReplicaLogDirsResponseAlterReplicaLogDirTopicResult(),
        topicName: t.name,
        partitions: t.partitions.map((partitionIndex) => ({ ...defaultAlterReplicaLogDirsResponseAlterReplicaLogDirPartitionResult(), partitionIndex, errorCode: DENIED })),
      })),
    ),
  };
}

/** Before v3 the response has no error code: no log directories at all is all a denial can say. */
function describeLogDirsDenial(): DescribeLogDirsResponse {
  return { ...defaultDescribeLogDirsResponse(), errorCode: DENIED };
}

/** The top-level error (v1+) and, as Kafka answers, each named partition's (the only place for it in v0). */
function electLeadersDenial(req: ElectLeadersRequest): ElectLeadersResponse {
  return {
    ...defaultElectLeadersResponse(),
    errorCode: DENIED,
    replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
      ...defaultElectLeadersResponseReplicaElectionResult(),
      topic: t.topic,
      partitionResult: t.partitions.map((partitionId) => ({ ...defaultElectLeadersResponsePartitionResult(), partitionId, errorCode: DENIED, errorMessage: null })),
    })),
  };
}

/** As Kafka answers (AlterClientQuotasRequest.getErrorResponse): each entry with the code's message. */
function alterClientQuotasDenial(req: AlterClientQuotasRequest): AlterClientQuotasResponse {
  return {
    ...defaultAlterClientQuotasResponse(),
    entries: req.entries.map((e) => ({
      ...defaultAlterClientQuotasResponseEntryData(),
      errorCode: DENIED,
      errorMessage: KAFKA_MESSAGE[DENIED],
      entity: e.entity.map(({ entityType, entityName }) => ({ ...defaultAlterClientQuotasResponseEntityData(), entityType, entityName })),
    })),
  };
}

/** One result per user named, in order, as Kafka answers. */
function alterUserScramCredentialsDenial(req: AlterUserScramCredentialsRequest): AlterUserScramCredentialsResponse {
  const users = [...new Set([...req.deletions, ...req.upsertions].map((c) => c.name))].sort();
  return {
    ...defaultAlterUserScramCredentialsResponse(),
    results: users.map((user) => ({ ...defaultAlterUserScramCredentialsResponseAlterUserScramCredentialsResult(), user, errorCode: DENIED, errorMessage: null })),
  };
}

/** The top-level error and, as Kafka answers, each named partition's (its message, which quotes the request, is left out). */
function alterPartitionReassignmentsDenial(req: AlterPartitionReassignmentsRequest): AlterPartitionReassignmentsResponse {
  return {
    ...defaultAlterPartitionReassignmentsResponse(),
    errorCode: DENIED,
    errorMessage: null,
    responses: req.topics.map((t) => ({
      ...defaultAlterPartitionReassignmentsResponseReassignableTopicResponse(),
      name: t.name,
      partitions: t.partitions.map((p) => ({
        ...defaultAlterPartitionReassignmentsResponseReassignablePartitionResponse(),
        partitionIndex: p.partitionIndex,
        errorCode: DENIED,
        errorMessage: null,
      })),
    })),
  };
}

/** The top-level error, and the partitions named listed back without replicas, as Kafka answers. */
function listPartitionReassignmentsDenial(req: ListPartitionReassignmentsRequest): ListPartitionReassignmentsResponse {
  return {
    ...defaultListPartitionReassignmentsResponse(),
    errorCode: DENIED,
    errorMessage: null,
    topics: (req.topics ?? []).map((t) => ({
      ...defaultListPartitionReassignmentsResponseOngoingTopicReassignment(),
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ ...defaultListPartitionReassignmentsResponseOngoingPartitionReassignment(), partitionIndex })),
    })),
  };
}

/** The top-level error and, as Kafka answers, one result per user named (with no user name). */
function describeUserScramCredentialsDenial(req: DescribeUserScramCredentialsRequest): DescribeUserScramCredentialsResponse {
  return {
    ...defaultDescribeUserScramCredentialsResponse(),
    errorCode: DENIED,
    errorMessage: null,
    results: (req.users ?? []).map(() => ({
      ...defaultDescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult(),
      user: '',
      errorCode: DENIED,
      errorMessage: null,
    })),
  };
}

/**
 * DescribeCluster needs nothing, as on Kafka 3.9 (AuthHelper.computeDescribeClusterResponse):
 * any client may learn the brokers. Only the authorized operations depend on the principal, and
 * are the policy's.
 */
const describeClusterRule: ApiRule<DescribeClusterRequest, DescribeClusterResponse> = {
  authorize(_req, { access }) {
    return {
      action: 'forward',
      edit: (resp) => {
        if (resp.clusterAuthorizedOperations !== NOT_REQUESTED) resp.clusterAuthorizedOperations = authorizedOperations(access.grants, 'cluster', '');
      },
    };
  },
};

/**
 * APIs on the cluster as a whole: ACLs, log directories, elections, reassignments, quotas, SCRAM
 * credentials, features, telemetry, and those a broker forwards to the KRaft controllers, which
 * check the same operation (ControllerApis): the quorum's state, voters, unregistering a broker.
 */
export const CLUSTER_RULES: RuleTable = {
  [API_KEYS.DescribeAcls]: clusterRule('describe', (): DescribeAclsResponse => ({ ...defaultDescribeAclsResponse(), errorCode: DENIED, errorMessage: null })),
  [API_KEYS.CreateAcls]: clusterRule('alter', createAclsDenial),
  [API_KEYS.DeleteAcls]: clusterRule('alter', deleteAclsDenial),
  [API_KEYS.AlterReplicaLogDirs]: clusterRule('alter', alterReplicaLogDirsDenial),
  [API_KEYS.DescribeLogDirs]: clusterRule('describe', describeLogDirsDenial),
  [API_KEYS.ElectLeaders]: clusterRule('alter', electLeadersDenial),
  [API_KEYS.AlterPartitionReassignments]: clusterRule('alter', alterPartitionReassignmentsDenial),
  [API_KEYS.ListPartitionReassignments]: clusterRule('describe', listPartitionReassignmentsDenial),
  // As Kafka answers: no entries at all (null), rather than an empty list.
  [API_KEYS.DescribeClientQuotas]: clusterRule(
    'describe-configs',
    (): DescribeClientQuotasResponse => ({ ...defaultDescribeClientQuotasResponse(), errorCode: DENIED, errorMessage: null, entries: null }),
  ),
  [API_KEYS.AlterClientQuotas]: clusterRule('alter-configs', alterClientQuotasDenial),
  [API_KEYS.DescribeUserScramCredentials]: clusterRule('describe', describeUserScramCredentialsDenial),
  [API_KEYS.AlterUserScramCredentials]: clusterRule('alter', alterUserScramCredentialsDenial),
  [API_KEYS.UpdateFeatures]: clusterRule('alter', (): UpdateFeaturesResponse => ({ ...defaultUpdateFeaturesResponse(), errorCode: DENIED, errorMessage: null })),
  [API_KEYS.DescribeCluster]: describeClusterRule,
  [API_KEYS.DescribeQuorum]: clusterRule('describe', (): DescribeQuorumResponse => ({ ...defaultDescribeQuorumResponse(), errorCode: DENIED, errorMessage: KAFKA_MESSAGE[DENIED] })),
  // As Kafka answers (AddRaftVoterRequest/RemoveRaftVoterRequest.getErrorResponse): with the code's message.
  [API_KEYS.AddRaftVoter]: clusterRule('alter', (): AddRaftVoterResponse => ({ ...defaultAddRaftVoterResponse(), errorCode: DENIED, errorMessage: KAFKA_MESSAGE[DENIED] })),
  [API_KEYS.RemoveRaftVoter]: clusterRule('alter', (): RemoveRaftVoterResponse => ({ ...defaultRemoveRaftVoterResponse(), errorCode: DENIED, errorMessage: KAFKA_MESSAGE[DENIED] })),
  [API_KEYS.UnregisterBroker]: clusterRule('alter', (): UnregisterBrokerResponse => ({ ...defaultUnregisterBrokerResponse(), errorCode: DENIED, errorMessage: null })),
  [API_KEYS.ListClientMetricsResources]: clusterRule(
    'describe-configs',
    (): ListClientMetricsResourcesResponse => ({ ...defaultListClientMetricsResourcesResponse(), errorCode: DENIED }),
  ),
  // Client telemetry (KIP-714) needs no ACL on a broker: any authenticated client may send it.
  [API_KEYS.GetTelemetrySubscriptions]: NO_AUTHORIZATION,
  [API_KEYS.PushTelemetry]: NO_AUTHORIZATION,
};

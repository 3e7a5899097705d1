import { describe, expect, it } from 'vitest';
import { CLUSTER_RULES } from '../../src/authz/api-rules/cluster-apis.js';
import { NO_AUTHORIZATION } from '../../src/authz/api-rules/no-authorization.js';
import type { Outcome } from '../../src/authz/api-rules/rule.js';
import { NOT_REQUESTED } from '../../src/authz/authorized-operations.js';
import type { EnforcementMode } from '../../src/authz/denial-log.js';
import type { Operation } from '../../src/authz/operations.js';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import { RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { type AlterClientQuotasRequest, defaultAlterClientQuotasRequest } from '../../src/protocol/generated/messages/AlterClientQuotasRequest.js';
import type { AlterClientQuotasResponse } from '../../src/protocol/generated/messages/AlterClientQuotasResponse.js';
import {
  type AlterPartitionReassignmentsRequest,
  defaultAlterPartitionReassignmentsRequest,
} from '../../src/protocol/generated/messages/AlterPartitionReassignmentsRequest.js';
import type { AlterPartitionReassignmentsResponse } from '../../src/protocol/generated/messages/AlterPartitionReassignmentsResponse.js';
import { type AlterReplicaLogDirsRequest, defaultAlterReplicaLogDirsRequest } from '../../src/protocol/generated/messages/AlterReplicaLogDirsRequest.js';
import type { AlterReplicaLogDirsResponse } from '../../src/protocol/generated/messages/AlterReplicaLogDirsResponse.js';
import {
  type AlterUserScramCredentialsRequest,
  defaultAlterUserScramCredentialsRequest,
} from '../../src/protocol/generated/messages/AlterUserScramCredentialsRequest.js';
import type { AlterUserScramCredentialsResponse } from '../../src/protocol/generated/messages/AlterUserScramCredentialsResponse.js';
import { type CreateAclsRequest, defaultCreateAclsRequest, defaultCreateAclsRequestAclCreation } from '../../src/protocol/generated/messages/CreateAclsRequest.js';
import type { CreateAclsResponse } from '../../src/protocol/generated/messages/CreateAclsResponse.js';
import { type DeleteAclsRequest, defaultDeleteAclsRequest, defaultDeleteAclsRequestDeleteAclsFilter } from '../../src/protocol/generated/messages/DeleteAclsRequest.js';
import type { DeleteAclsResponse } from '../../src/protocol/generated/messages/DeleteAclsResponse.js';
import { type DescribeAclsRequest, defaultDescribeAclsRequest } from '../../src/protocol/generated/messages/DescribeAclsRequest.js';
import type { DescribeAclsResponse } from '../../src/protocol/generated/messages/DescribeAclsResponse.js';
import { type DescribeClientQuotasRequest, defaultDescribeClientQuotasRequest } from '../../src/protocol/generated/messages/DescribeClientQuotasRequest.js';
import type { DescribeClientQuotasResponse } from '../../src/protocol/generated/messages/DescribeClientQuotasResponse.js';
import { defaultAddRaftVoterRequest } from '../../src/protocol/generated/messages/AddRaftVoterRequest.js';
import { defaultDescribeQuorumRequest } from '../../src/protocol/generated/messages/DescribeQuorumRequest.js';
import { defaultRemoveRaftVoterRequest } from '../../src/protocol/generated/messages/RemoveRaftVoterRequest.js';
import { defaultUnregisterBrokerRequest } from '../../src/protocol/generated/messages/UnregisterBrokerRequest.js';
import { type DescribeClusterRequest, defaultDescribeClusterRequest } from '../../src/protocol/generated/messages/DescribeClusterRequest.js';
import { type DescribeClusterResponse, defaultDescribeClusterResponse } from '../../src/protocol/generated/messages/DescribeClusterResponse.js';
import { type DescribeLogDirsRequest, defaultDescribeLogDirsRequest } from '../../src/protocol/generated/messages/DescribeLogDirsRequest.js';
import type { DescribeLogDirsResponse } from '../../src/protocol/generated/messages/DescribeLogDirsResponse.js';
import {
  type DescribeUserScramCredentialsRequest,
  defaultDescribeUserScramCredentialsRequest,
} from '../../src/protocol/generated/messages/DescribeUserScramCredentialsRequest.js';
import type { DescribeUserScramCredentialsResponse } from '../../src/protocol/generated/messages/DescribeUserScramCredentialsResponse.js';
import { type ElectLeadersRequest, defaultElectLeadersRequest } from '../../src/protocol/generated/messages/ElectLeadersRequest.js';
import type { ElectLeadersResponse } from '../../src/protocol/generated/messages/ElectLeadersResponse.js';
import { defaultGetTelemetrySubscriptionsRequest } from '../../src/protocol/generated/messages/GetTelemetrySubscriptionsRequest.js';
import { defaultListClientMetricsResourcesRequest } from '../../src/protocol/generated/messages/ListClientMetricsResourcesRequest.js';
import type { ListClientMetricsResourcesResponse } from '../../src/protocol/generated/messages/ListClientMetricsResourcesResponse.js';
import {
  type ListPartitionReassignmentsRequest,
  defaultListPartitionReassignmentsRequest,
} from '../../src/protocol/generated/messages/ListPartitionReassignmentsRequest.js';
import type { ListPartitionReassignmentsResponse } from '../../src/protocol/generated/messages/ListPartitionReassignmentsResponse.js';
import { defaultPushTelemetryRequest } from '../../src/protocol/generated/messages/PushTelemetryRequest.js';
import { type UpdateFeaturesRequest, defaultUpdateFeaturesRequest, defaultUpdateFeaturesRequestFeatureUpdateKey } from '../../src/protocol/generated/messages/UpdateFeaturesRequest.js';
import type { UpdateFeaturesResponse } from '../../src/protocol/generated/messages/UpdateFeaturesResponse.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { presentFields } from '../support/random-message.js';
import { denialsOf, UNTOUCHED } from '../support/rule-outcomes.js';
import { ruleHarness } from '../support/rule-harness.js';

// One cluster operation per principal (alter implies describe, alter-configs implies
// describe-configs). alice may do anything to every topic, which grants nothing on the cluster.
const POLICY = `
roles:
  viewer:
    - { cluster: true, operations: [describe] }
  operator:
    - { cluster: true, operations: [alter] }
  config-viewer:
    - { cluster: true, operations: [describe-configs] }
  configurer:
    - { cluster: true, operations: [alter-configs] }
  app:
    - { topics: ["*"], operations: [all] }
bindings:
  vic: [viewer]
  olga: [operator]
  dora: [config-viewer]
  cora: [configurer]
  alice: [app]
`;

/** Principals with exactly `op` (or more) on the cluster, and ones with a different cluster operation but not `op`. */
const HOLDER: Record<string, string> = { describe: 'vic', alter: 'olga', 'describe-configs': 'dora', 'alter-configs': 'cora' };
const NON_HOLDER: Record<string, string> = { describe: 'cora', alter: 'vic', 'describe-configs': 'olga', 'alter-configs': 'dora' };

function harness(principal: string, mode: EnforcementMode = 'enforce') {
  return ruleHarness(POLICY, { principal, mode });
}

function authorize(apiKey: number, request: object, version: number, h: ReturnType<typeof harness>): Outcome {
  return CLUSTER_RULES[apiKey].authorize(request, h.ctx(version));
}

/** Every version the generated codecs support for `apiKey`. */
function versions(apiKey: number): number[] {
  const api = APIS[apiKey];
  return Array.from({ length: api.maxVersion - api.minVersion + 1 }, (_, i) => api.minVersion + i);
}

/** The proxy's answer as the client receives it: encoded at `version` and decoded back, which must lose nothing the version carries. */
function answerOnTheWire<Resp>(apiKey: number, outcome: Outcome, version: number): Resp {
  expect(outcome.action).toBe('answer');
  const response = (outcome as { response: Resp }).response;
  const schema = MESSAGE_SCHEMAS.find((s) => s.apiKey === apiKey && s.type === 'response')!;
  const w = new Writer();
  RESPONSE_CODECS[apiKey].write(w, response, version);
  const r = new Reader(w.toBuffer());
  const decoded = RESPONSE_CODECS[apiKey].read(r, version) as Resp;
  expect(r.remaining, `${schema.name} v${version}`).toBe(0);
  expect(presentFields(schema.fields, version, decoded), `${schema.name} v${version}`).toEqual(presentFields(schema.fields, version, response));
  return decoded;
}

/** The tests every whole-request cluster API gets: forwarded with the operation, answered (checked by `expectDenied`) without it, forwarded in audit mode. */
function clusterApi<Resp>(apiKey: number, op: Operation, request: object, expectDenied: (resp: Resp, version: number) => void): void {
  const latest = APIS[apiKey].maxVersion;
  describe(APIS[apiKey].name, () => {
    it(`forwards a principal with Cluster ${op}, untouched and without logging`, () => {
      const h = harness(HOLDER[op]);
      expect(authorize(apiKey, request, latest, h)).toEqual(UNTOUCHED);
      expect(h.logs).toEqual([]);
    });

    it(`answers 31 at every version to a principal without Cluster ${op}, whatever else it may do`, () => {
      for (const principal of [NON_HOLDER[op], 'alice']) {
        for (const v of versions(apiKey)) {
          const h = harness(principal);
          expectDenied(answerOnTheWire<Resp>(apiKey, authorize(apiKey, request, v, h), v), v);
          expect(denialsOf(h)).toEqual([`cluster::${op}`]);
        }
      }
    });

    it('forwards in audit mode and logs what enforcement would deny', () => {
      const h = harness('alice', 'audit');
      expect(authorize(apiKey, request, latest, h)).toEqual(UNTOUCHED);
      expect(denialsOf(h)).toEqual([`cluster::${op}`]);
      expect(h.logs.every((l) => l.level === 'warn')).toBe(true);
    });
  });
}

clusterApi<DescribeAclsResponse>(API_KEYS.DescribeAcls, 'describe', { ...defaultDescribeAclsRequest(), resourceTypeFilter: 1 } satisfies DescribeAclsRequest, (resp) => {
  expect(resp).toMatchObject({ errorCode: 31, errorMessage: null, resources: [] });
});

clusterApi<CreateAclsResponse>(
  API_KEYS.CreateAcls,
  'alter',
  {
    ...defaultCreateAclsRequest(),
    creations: ['User:bob', 'User:eve'].map((principal) => ({ ...defaultCreateAclsRequestAclCreation(), resourceType: 2, resourceName: 'orders', principal, host: '*' })),
  } satisfies CreateAclsRequest,
  (resp) => {
    expect(resp.results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [31, null],
      [31, null],
    ]);
  },
);

clusterApi<DeleteAclsResponse>(
  API_KEYS.DeleteAcls,
  'alter',
  { ...defaultDeleteAclsRequest(), filters: [1, 2, 3].map((resourceTypeFilter) => ({ ...defaultDeleteAclsRequestDeleteAclsFilter(), resourceTypeFilter })) } satisfies DeleteAclsRequest,
  (resp) => {
    expect(resp.filterResults.map((r) => [r.errorCode, r.errorMessage, r.matchingAcls.length])).toEqual([
      [31, null, 0],
      [31, null, 0],
      [31, null, 0],
    ]);
  },
);

clusterApi<AlterReplicaLogDirsResponse>(
  API_KEYS.AlterReplicaLogDirs,
  'alter',
  {
    ...defaultAlterReplicaLogDirsRequest(),
    dirs: [
      { path: '/data/1', topics: [{ name: 'orders', partitions: [0, 1] }] },
      { path: '/data/2', topics: [{ name: 'orders', partitions: [2] }, { name: 'audit', partitions: [0] }] },
    ],
  } satisfies AlterReplicaLogDirsRequest,
  (resp) => {
    expect(resp.results.map((t) => [t.topicName, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])).toEqual([
      ['orders', [[0, 31], [1, 31]]],
      ['orders', [[2, 31]]],
      ['audit', [[0, 31]]],
    ]);
  },
);

clusterApi<DescribeLogDirsResponse>(API_KEYS.DescribeLogDirs, 'describe', { ...defaultDescribeLogDirsRequest(), topics: null } satisfies DescribeLogDirsRequest, (resp, v) => {
  // Before v3 the response has no error code: it can only show no log directories.
  expect(resp.results).toEqual([]);
  expect(resp.errorCode).toBe(v >= 3 ? 31 : 0);
});

clusterApi<ElectLeadersResponse>(
  API_KEYS.ElectLeaders,
  'alter',
  { ...defaultElectLeadersRequest(), electionType: 1, topicPartitions: [{ topic: 'orders', partitions: [0, 3] }] } satisfies ElectLeadersRequest,
  (resp, v) => {
    expect(resp.errorCode).toBe(v >= 1 ? 31 : 0);
    expect(resp.replicaElectionResults.map((t) => [t.topic, t.partitionResult.map((p) => [p.partitionId, p.errorCode, p.errorMessage])])).toEqual([
      [
        'orders',
        [
          [0, 31, null],
          [3, 31, null],
        ],
      ],
    ]);
  },
);

describe('ElectLeaders for every partition', () => {
  it('answers with the top-level error only, as there are no partitions to name', () => {
    const outcome = authorize(API_KEYS.ElectLeaders, { ...defaultElectLeadersRequest(), topicPartitions: null } satisfies ElectLeadersRequest, 2, harness('vic'));
    expect(answerOnTheWire<ElectLeadersResponse>(API_KEYS.ElectLeaders, outcome, 2)).toMatchObject({ errorCode: 31, replicaElectionResults: [] });
  });
});

clusterApi<AlterPartitionReassignmentsResponse>(
  API_KEYS.AlterPartitionReassignments,
  'alter',
  {
    ...defaultAlterPartitionReassignmentsRequest(),
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [1, 2] }] }],
  } satisfies AlterPartitionReassignmentsRequest,
  (resp) => {
    // As Kafka's AlterPartitionReassignmentsRequest.getErrorResponse: the top-level error and each named partition's.
    expect(resp).toMatchObject({ errorCode: 31, errorMessage: null, responses: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 31, errorMessage: null }] }] });
  },
);

clusterApi<ListPartitionReassignmentsResponse>(
  API_KEYS.ListPartitionReassignments,
  'describe',
  { ...defaultListPartitionReassignmentsRequest(), topics: null } satisfies ListPartitionReassignmentsRequest,
  (resp) => {
    expect(resp).toMatchObject({ errorCode: 31, errorMessage: null, topics: [] });
  },
);

describe('ListPartitionReassignments naming partitions', () => {
  it('lists the named partitions back without replicas, as Kafka answers a denial', () => {
    const request = { ...defaultListPartitionReassignmentsRequest(), topics: [{ name: 'orders', partitionIndexes: [0, 2] }] } satisfies ListPartitionReassignmentsRequest;
    const resp = answerOnTheWire<ListPartitionReassignmentsResponse>(API_KEYS.ListPartitionReassignments, authorize(API_KEYS.ListPartitionReassignments, request, 0, harness('alice')), 0);
    expect(resp).toMatchObject({ errorCode: 31, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [] }, { partitionIndex: 2, replicas: [] }] }] });
  });
});

clusterApi<DescribeClientQuotasResponse>(
  API_KEYS.DescribeClientQuotas,
  'describe-configs',
  { ...defaultDescribeClientQuotasRequest(), components: [{ entityType: 'user', matchType: 0, match: 'alice' }] } satisfies DescribeClientQuotasRequest,
  (resp) => {
    expect(resp).toMatchObject({ errorCode: 31, errorMessage: null, entries: null });
  },
);

clusterApi<AlterClientQuotasResponse>(
  API_KEYS.AlterClientQuotas,
  'alter-configs',
  {
    ...defaultAlterClientQuotasRequest(),
    entries: [
      {
        entity: [
          { entityType: 'user', entityName: 'alice' },
          { entityType: 'client-id', entityName: null },
        ],
        ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }],
      },
      { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 5, remove: false }] },
    ],
  } satisfies AlterClientQuotasRequest,
  (resp) => {
    expect(resp.entries.map((e) => [e.errorCode, e.errorMessage, e.entity.map((x) => [x.entityType, x.entityName])])).toEqual([
      [
        31,
        'Cluster authorization failed.',
        [
          ['user', 'alice'],
          ['client-id', null],
        ],
      ],
      [31, 'Cluster authorization failed.', [['ip', '10.0.0.1']]],
    ]);
  },
);

clusterApi<DescribeUserScramCredentialsResponse>(
  API_KEYS.DescribeUserScramCredentials,
  'describe',
  { ...defaultDescribeUserScramCredentialsRequest(), users: [{ name: 'alice' }] } satisfies DescribeUserScramCredentialsRequest,
  (resp) => {
    // As Kafka's DescribeUserScramCredentialsRequest.getErrorResponse: one result per user named, without its name.
    expect(resp).toMatchObject({ errorCode: 31, errorMessage: null, results: [{ user: '', errorCode: 31, errorMessage: null }] });
  },
);

clusterApi<AlterUserScramCredentialsResponse>(
  API_KEYS.AlterUserScramCredentials,
  'alter',
  {
    ...defaultAlterUserScramCredentialsRequest(),
    deletions: [{ name: 'zed', mechanism: 1 }],
    upsertions: ['bob', 'zed'].map((name) => ({ name, mechanism: 2, iterations: 4096, salt: Buffer.from('salt'), saltedPassword: Buffer.from('hash') })),
  } satisfies AlterUserScramCredentialsRequest,
  (resp) => {
    // One result per user, in order, however many changes name them.
    expect(resp.results.map((r) => [r.user, r.errorCode, r.errorMessage])).toEqual([
      ['bob', 31, null],
      ['zed', 31, null],
    ]);
  },
);

clusterApi<UpdateFeaturesResponse>(
  API_KEYS.UpdateFeatures,
  'alter',
  {
    ...defaultUpdateFeaturesRequest(),
    featureUpdates: [{ ...defaultUpdateFeaturesRequestFeatureUpdateKey(), feature: 'metadata.version', maxVersionLevel: 21, upgradeType: 1 }],
  } satisfies UpdateFeaturesRequest,
  (resp) => {
    expect(resp).toMatchObject({ errorCode: 31, errorMessage: null, results: [] });
  },
);

clusterApi<ListClientMetricsResourcesResponse>(API_KEYS.ListClientMetricsResources, 'describe-configs', defaultListClientMetricsResourcesRequest(), (resp) => {
  expect(resp).toMatchObject({ errorCode: 31, clientMetricsResources: [] });
});

describe('DescribeCluster', () => {
  const key = API_KEYS.DescribeCluster;
  const request: DescribeClusterRequest = { ...defaultDescribeClusterRequest(), includeClusterAuthorizedOperations: true };
  const DESCRIBE = 1 << 8;
  const ALTER = 1 << 7;
  /** What a broker without an authorizer reports: every cluster operation. */
  const brokerResponse = (clusterAuthorizedOperations: number): DescribeClusterResponse => ({
    ...defaultDescribeClusterResponse(),
    clusterId: 'c-1',
    controllerId: 1,
    brokers: [{ brokerId: 1, host: 'b1', port: 9092, rack: null }],
    clusterAuthorizedOperations,
  });

  it('forwards a principal with Cluster Describe and reports the policy operations instead of the broker ones', () => {
    for (const [principal, bits] of [
      ['vic', DESCRIBE],
      ['olga', ALTER | DESCRIBE],
    ] as const) {
      const h = harness(principal);
      const outcome = authorize(key, request, 1, h);
      expect(outcome.action).toBe('forward');
      const resp = brokerResponse(0x1ffe);
      (outcome as { edit: (r: DescribeClusterResponse) => void }).edit(resp);
      expect(resp).toMatchObject({ clusterId: 'c-1', clusterAuthorizedOperations: bits, brokers: [{ brokerId: 1 }] });
      expect(h.logs).toEqual([]);
    }
  });

  it('leaves the field alone where the broker did not report it', () => {
    const outcome = authorize(key, { ...request, includeClusterAuthorizedOperations: false }, 1, harness('vic'));
    const resp = brokerResponse(NOT_REQUESTED);
    (outcome as { edit: (r: DescribeClusterResponse) => void }).edit(resp);
    expect(resp.clusterAuthorizedOperations).toBe(NOT_REQUESTED);
  });

  it('forwards a principal without any cluster grant, as Kafka 3.9 does, reporting no operations and logging nothing', () => {
    for (const v of versions(key)) {
      const h = harness('cora');
      const outcome = authorize(key, request, v, h);
      expect(outcome.action).toBe('forward');
      const resp = brokerResponse(0x1ffe);
      (outcome as { edit: (r: DescribeClusterResponse) => void }).edit(resp);
      expect(resp).toMatchObject({ clusterId: 'c-1', clusterAuthorizedOperations: 0, brokers: [{ brokerId: 1 }] });
      expect(h.logs).toEqual([]);
    }
  });
});

describe('APIs the brokers forward to the KRaft controllers', () => {
  it('DescribeQuorum needs Cluster Describe; AddRaftVoter, RemoveRaftVoter and UnregisterBroker Cluster Alter: 31 otherwise, logged', () => {
    for (const [key, op, request] of [
      [API_KEYS.DescribeQuorum, 'describe', defaultDescribeQuorumRequest()],
      [API_KEYS.AddRaftVoter, 'alter', defaultAddRaftVoterRequest()],
      [API_KEYS.RemoveRaftVoter, 'alter', defaultRemoveRaftVoterRequest()],
      [API_KEYS.UnregisterBroker, 'alter', defaultUnregisterBrokerRequest()],
    ] as const) {
      expect(authorize(key, request, 0, harness(HOLDER[op])).action, APIS[key].name).toBe('forward');
      const h = harness(NON_HOLDER[op]);
      const resp = answerOnTheWire<{ errorCode: number }>(key, authorize(key, request, 0, h), 0);
      expect(resp.errorCode, APIS[key].name).toBe(31);
      expect(denialsOf(h), APIS[key].name).toEqual([`cluster::${op}`]);
    }
  });
});

describe('AddRaftVoter and RemoveRaftVoter denials', () => {
  it("carry Kafka's message for 31, as their getErrorResponse sets it", () => {
    for (const [key, request] of [
      [API_KEYS.AddRaftVoter, defaultAddRaftVoterRequest()],
      [API_KEYS.RemoveRaftVoter, defaultRemoveRaftVoterRequest()],
    ] as const) {
      const resp = answerOnTheWire<{ errorCode: number; errorMessage: string | null }>(key, authorize(key, request, 0, harness(NON_HOLDER.alter)), 0);
      expect(resp, APIS[key].name).toMatchObject({ errorCode: 31, errorMessage: 'Cluster authorization failed.' });
    }
  });
});

describe('client telemetry', () => {
  it('is forwarded for any authenticated principal, without decoding or logging', () => {
    for (const [key, request] of [
      [API_KEYS.GetTelemetrySubscriptions, defaultGetTelemetrySubscriptionsRequest()],
      [API_KEYS.PushTelemetry, defaultPushTelemetryRequest()],
    ] as const) {
      // The request authorizer skips decoding for exactly this rule.
      expect(CLUSTER_RULES[key]).toBe(NO_AUTHORIZATION);
      const h = harness('alice');
      expect(authorize(key, request, 0, h)).toEqual(UNTOUCHED);
      expect(h.logs).toEqual([]);
    }
  });
});

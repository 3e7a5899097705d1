import { describe, expect, it } from 'vitest';
import { GROUP_RULES } from '../../src/authz/api-rules/group-apis.js';
import type { Outcome } from '../../src/authz/api-rules/rule.js';
import { NOT_REQUESTED } from '../../src/authz/authorized-operations.js';
import type { EnforcementMode } from '../../src/authz/denial-log.js';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import { defaultConsumerGroupDescribeRequest } from '../../src/protocol/generated/messages/ConsumerGroupDescribeRequest.js';
import {
  type ConsumerGroupDescribeResponse,
  defaultConsumerGroupDescribeResponse,
  defaultConsumerGroupDescribeResponseDescribedGroup,
} from '../../src/protocol/generated/messages/ConsumerGroupDescribeResponse.js';
import { defaultConsumerGroupHeartbeatRequest } from '../../src/protocol/generated/messages/ConsumerGroupHeartbeatRequest.js';
import type { ConsumerGroupHeartbeatResponse } from '../../src/protocol/generated/messages/ConsumerGroupHeartbeatResponse.js';
import { type DeleteGroupsRequest, defaultDeleteGroupsRequest } from '../../src/protocol/generated/messages/DeleteGroupsRequest.js';
import { type DeleteGroupsResponse, defaultDeleteGroupsResponse } from '../../src/protocol/generated/messages/DeleteGroupsResponse.js';
import { type DescribeGroupsRequest, defaultDescribeGroupsRequest } from '../../src/protocol/generated/messages/DescribeGroupsRequest.js';
import {
  type DescribeGroupsResponse,
  defaultDescribeGroupsResponse,
  defaultDescribeGroupsResponseDescribedGroup,
} from '../../src/protocol/generated/messages/DescribeGroupsResponse.js';
import { type FindCoordinatorRequest, defaultFindCoordinatorRequest } from '../../src/protocol/generated/messages/FindCoordinatorRequest.js';
import {
  type FindCoordinatorResponse,
  defaultFindCoordinatorResponse,
  defaultFindCoordinatorResponseCoordinator,
} from '../../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { defaultHeartbeatRequest } from '../../src/protocol/generated/messages/HeartbeatRequest.js';
import { defaultJoinGroupRequest } from '../../src/protocol/generated/messages/JoinGroupRequest.js';
import type { JoinGroupResponse } from '../../src/protocol/generated/messages/JoinGroupResponse.js';
import { defaultLeaveGroupRequest } from '../../src/protocol/generated/messages/LeaveGroupRequest.js';
import { defaultListGroupsRequest } from '../../src/protocol/generated/messages/ListGroupsRequest.js';
import {
  type ListGroupsResponse,
  defaultListGroupsResponse,
  defaultListGroupsResponseListedGroup,
} from '../../src/protocol/generated/messages/ListGroupsResponse.js';
import {
  type OffsetCommitRequest,
  defaultOffsetCommitRequest,
  defaultOffsetCommitRequestPartition,
} from '../../src/protocol/generated/messages/OffsetCommitRequest.js';
import { type OffsetCommitResponse, defaultOffsetCommitResponse } from '../../src/protocol/generated/messages/OffsetCommitResponse.js';
import { type OffsetDeleteRequest, defaultOffsetDeleteRequest } from '../../src/protocol/generated/messages/OffsetDeleteRequest.js';
import { type OffsetDeleteResponse, defaultOffsetDeleteResponse } from '../../src/protocol/generated/messages/OffsetDeleteResponse.js';
import {
  type OffsetFetchRequest,
  type OffsetFetchRequestGroup,
  defaultOffsetFetchRequest,
  defaultOffsetFetchRequestGroup,
} from '../../src/protocol/generated/messages/OffsetFetchRequest.js';
import {
  type OffsetFetchResponse,
  type OffsetFetchResponseTopic,
  defaultOffsetFetchResponse,
  defaultOffsetFetchResponseGroup,
  defaultOffsetFetchResponsePartition,
} from '../../src/protocol/generated/messages/OffsetFetchResponse.js';
import { defaultSyncGroupRequest } from '../../src/protocol/generated/messages/SyncGroupRequest.js';
import { answered, denialsOf, expectWritable, forwardEdit, rebuilt, UNTOUCHED } from '../support/rule-outcomes.js';
import { ruleHarness } from '../support/rule-harness.js';

// alice: Read on app-* groups (implies Describe), Describe only on "viewable", Delete on "app-old";
// Read on orders and orders-* topics, Describe only on "catalog"; Describe on one transactional id.
// bob may also Describe the cluster. Everything else ("other", "secret", ...) is denied.
const POLICY = `
roles:
  consumer:
    - { groups: ["app-*"], operations: [read] }
    - { groups: ["viewable"], operations: [describe] }
    - { groups: ["app-old"], operations: [delete] }
    - { topics: ["orders", "orders-*"], operations: [read] }
    - { topics: ["catalog"], operations: [describe] }
    - { transactionalIds: ["app-tx"], operations: [describe] }
  cluster-viewer:
    - { cluster: true, operations: [describe] }
bindings:
  alice: [consumer]
  bob: [consumer, cluster-viewer]
`;

const READ = 1 << 3;
const DELETE = 1 << 6;
const DESCRIBE = 1 << 8;

function harness(mode: EnforcementMode = 'enforce', principal = 'alice') {
  return ruleHarness(POLICY, { principal, mode });
}

function authorize(apiKey: number, request: object, version: number, h = harness()): Outcome {
  return GROUP_RULES[apiKey].authorize(request, h.ctx(version));
}

/** Every version the proxy offers clients for `apiKey`. */
function versions(apiKey: number): number[] {
  const api = APIS.find((a) => a.apiKey === apiKey)!;
  const max = Math.min(api.maxStableVersion, GROUP_RULES[apiKey].maxVersion ?? Infinity);
  return Array.from({ length: max - api.minVersion + 1 }, (_, i) => api.minVersion + i);
}

function commitTopic(name: string, partitions: number[]) {
  return { name, partitions: partitions.map((partitionIndex) => ({ ...defaultOffsetCommitRequestPartition(), partitionIndex, committedOffset: 42n })) };
}

describe('OffsetCommit', () => {
  const key = API_KEYS.OffsetCommit;
  const commit = (groupId: string, topics = [commitTopic('orders', [0, 1]), commitTopic('secret', [2])]): OffsetCommitRequest => ({
    ...defaultOffsetCommitRequest(),
    groupId,
    memberId: 'm-1',
    generationIdOrMemberEpoch: 3,
    topics,
  });

  it('forwards a commit to a readable group and readable topics', () => {
    expect(authorize(key, commit('app-1', [commitTopic('orders', [0]), commitTopic('orders-eu', [1])]), 9)).toEqual(UNTOUCHED);
  });

  it('answers a commit to a group without Read with 30 on every partition, at every version', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, commit('viewable'), v);
      expect(answered<OffsetCommitResponse>(outcome).topics).toEqual([
        { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 30 }, { partitionIndex: 1, errorCode: 30 }] },
        { name: 'secret', partitions: [{ partitionIndex: 2, errorCode: 30 }] },
      ]);
      expectWritable(key, outcome, v);
    }
  });

  it('forwards only the readable topics and merges 29 for the others into the broker response', () => {
    for (const v of versions(key)) {
      const h = harness();
      const outcome = authorize(key, commit('app-1'), v, h);
      const { request, edit } = rebuilt<OffsetCommitRequest, OffsetCommitResponse>(outcome);
      expect(request.topics.map((t) => t.name)).toEqual(['orders']);
      expect(request).toMatchObject({ groupId: 'app-1', memberId: 'm-1', generationIdOrMemberEpoch: 3 });
      expectWritable(key, outcome, v);
      const resp = {
        ...defaultOffsetCommitResponse(),
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }],
      };
      edit(resp);
      expect(resp.topics).toEqual([
        { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] },
        { name: 'secret', partitions: [{ partitionIndex: 2, errorCode: 29 }] },
      ]);
      expect(denialsOf(h)).toEqual(['topic:secret:read']);
    }
  });

  it('answers with 29 when no topic is readable: Describe is not enough', () => {
    const outcome = authorize(key, commit('app-1', [commitTopic('catalog', [0]), commitTopic('secret', [1])]), 8);
    expect(answered<OffsetCommitResponse>(outcome).topics.flatMap((t) => t.partitions.map((p) => p.errorCode))).toEqual([29, 29]);
  });

  it('forwards in audit mode and logs what enforcement would deny', () => {
    const h = harness('audit');
    expect(authorize(key, commit('other'), 8, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:read', 'topic:secret:read']);
    expect(h.logs.every((l) => l.level === 'warn')).toBe(true);
  });
});

describe('OffsetFetch', () => {
  const key = API_KEYS.OffsetFetch;
  const fetchTopic = (name: string, partitionIndexes: number[]) => ({ name, partitionIndexes });
  const oneGroup = (groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null): OffsetFetchRequest => ({
    ...defaultOffsetFetchRequest(),
    groupId,
    topics,
  });
  const offsets = (name: string, ...partitions: number[]): OffsetFetchResponseTopic => ({
    name,
    partitions: partitions.map((partitionIndex) => ({ ...defaultOffsetFetchResponsePartition(), partitionIndex, committedOffset: 7n })),
  });
  const errors = (topics: OffsetFetchResponseTopic[]) => topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.committedOffset])]);

  describe('one group (v0-7)', () => {
    it('forwards named topics the principal may describe', () => {
      expect(authorize(key, oneGroup('viewable', [fetchTopic('orders', [0]), fetchTopic('catalog', [1])]), 5)).toEqual(UNTOUCHED);
    });

    it('answers a group without Describe: per partition before v2, top-level from v2', () => {
      for (const v of versions(key).filter((v) => v < 8)) {
        const outcome = authorize(key, oneGroup('other', [fetchTopic('orders', [0, 1])]), v);
        const resp = answered<OffsetFetchResponse>(outcome);
        if (v < 2) expect(errors(resp.topics)).toEqual([['orders', [[0, 30, -1n], [1, 30, -1n]]]]);
        else expect(resp).toMatchObject({ errorCode: 30, topics: [] });
        expectWritable(key, outcome, v);
      }
    });

    it('rebuilds without the topics it may not describe and adds them back with 29 and no offset', () => {
      for (const v of versions(key).filter((v) => v < 8)) {
        const outcome = authorize(key, oneGroup('app-1', [fetchTopic('orders', [0]), fetchTopic('secret', [3, 4])]), v);
        const { request, edit } = rebuilt<OffsetFetchRequest, OffsetFetchResponse>(outcome);
        expect(request.topics).toEqual([fetchTopic('orders', [0])]);
        expectWritable(key, outcome, v);
        const resp = { ...defaultOffsetFetchResponse(), topics: [offsets('orders', 0)] };
        edit(resp);
        expect(errors(resp.topics)).toEqual([
          ['orders', [[0, 0, 7n]]],
          ['secret', [[3, 29, -1n], [4, 29, -1n]]],
        ]);
      }
    });

    it('leaves a group error (v2+) alone: Kafka then sends the coordinator\'s answer without the denied topics', () => {
      const { edit } = rebuilt<OffsetFetchRequest, OffsetFetchResponse>(authorize(key, oneGroup('app-1', [fetchTopic('orders', [0]), fetchTopic('secret', [3])]), 5));
      const resp = { ...defaultOffsetFetchResponse(), errorCode: 14, topics: [] };
      edit(resp);
      expect(resp).toMatchObject({ errorCode: 14, topics: [] });
    });

    it('answers locally when no named topic may be described', () => {
      const outcome = authorize(key, oneGroup('app-1', [fetchTopic('secret', [0])]), 6);
      expect(errors(answered<OffsetFetchResponse>(outcome).topics)).toEqual([['secret', [[0, 29, -1n]]]]);
      expectWritable(key, outcome, 6);
    });

    it('silently drops topics the principal may not describe from a fetch of all offsets', () => {
      const h = harness();
      const edit = forwardEdit<OffsetFetchResponse>(authorize(key, oneGroup('app-1', null), 7, h));
      const resp = { ...defaultOffsetFetchResponse(), topics: [offsets('orders', 0), offsets('secret', 0), offsets('catalog', 1)] };
      edit(resp);
      expect(resp.topics.map((t) => t.name)).toEqual(['orders', 'catalog']);
      expect(h.logs).toEqual([]);
    });
  });

  describe('groups (v8+)', () => {
    const group = (groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null): OffsetFetchRequestGroup => ({
      ...defaultOffsetFetchRequestGroup(),
      groupId,
      topics,
    });
    const groups = (...gs: OffsetFetchRequestGroup[]): OffsetFetchRequest => ({ ...defaultOffsetFetchRequest(), groups: gs });

    it('forwards groups and topics that may all be described untouched', () => {
      expect(authorize(key, groups(group('app-1', [fetchTopic('orders', [0])]), group('viewable', [])), 8)).toEqual(UNTOUCHED);
    });

    it('answers when no group may be described: one entry with 30 per group', () => {
      for (const v of [8, 9]) {
        const outcome = authorize(key, groups(group('other', [fetchTopic('orders', [0])]), group('nope', null)), v);
        expect(answered<OffsetFetchResponse>(outcome).groups.map((g) => [g.groupId, g.errorCode, g.topics])).toEqual([
          ['other', 30, []],
          ['nope', 30, []],
        ]);
        expectWritable(key, outcome, v);
      }
    });

    it('handles each group on its own: denied groups merged back, denied topics merged into their group, all-topics filtered', () => {
      for (const v of [8, 9]) {
        const h = harness();
        const sent = groups(group('app-1', [fetchTopic('orders', [0]), fetchTopic('secret', [1])]), group('other', null), group('app-2', null));
        const outcome = authorize(key, sent, v, h);
        const { request, edit } = rebuilt<OffsetFetchRequest, OffsetFetchResponse>(outcome);
        expect(request.groups).toEqual([group('app-1', [fetchTopic('orders', [0])]), group('app-2', null)]);
        expectWritable(key, outcome, v);
        const resp = {
          ...defaultOffsetFetchResponse(),
          groups: [
            { ...defaultOffsetFetchResponseGroup(), groupId: 'app-1', topics: [offsets('orders', 0)] },
            { ...defaultOffsetFetchResponseGroup(), groupId: 'app-2', topics: [offsets('orders-eu', 0), offsets('secret', 5)] },
          ],
        };
        edit(resp);
        expect(resp.groups.map((g) => [g.groupId, g.errorCode, errors(g.topics)])).toEqual([
          ['app-1', 0, [['orders', [[0, 0, 7n]]], ['secret', [[1, 29, -1n]]]]],
          ['app-2', 0, [['orders-eu', [[0, 0, 7n]]]]],
          ['other', 30, []],
        ]);
        expect(denialsOf(h)).toEqual(['group:other:describe', 'topic:secret:describe']);
      }
    });

    it('leaves a group the coordinator answers with an error without the denied topics, as Kafka', () => {
      const { edit } = rebuilt<OffsetFetchRequest, OffsetFetchResponse>(authorize(key, groups(group('app-1', [fetchTopic('orders', [0]), fetchTopic('secret', [1])])), 9));
      const resp = { ...defaultOffsetFetchResponse(), groups: [{ ...defaultOffsetFetchResponseGroup(), groupId: 'app-1', errorCode: 15, topics: [] }] };
      edit(resp);
      expect(resp.groups.map((g) => [g.groupId, g.errorCode, g.topics])).toEqual([['app-1', 15, []]]);
    });

    it('forwards a fetch of all offsets of describable groups, filtering what comes back', () => {
      const edit = forwardEdit<OffsetFetchResponse>(authorize(key, groups(group('app-1', null)), 9));
      const resp = {
        ...defaultOffsetFetchResponse(),
        groups: [{ ...defaultOffsetFetchResponseGroup(), groupId: 'app-1', topics: [offsets('secret', 0), offsets('orders', 1)] }],
      };
      edit(resp);
      expect(resp.groups[0].topics.map((t) => t.name)).toEqual(['orders']);
    });
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, oneGroup('other', [fetchTopic('secret', [0])]), 4, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:describe', 'topic:secret:describe']);
  });
});

describe('FindCoordinator', () => {
  const key = API_KEYS.FindCoordinator;
  const find = (keyType: number, ...keys: string[]): FindCoordinatorRequest => ({ ...defaultFindCoordinatorRequest(), keyType, key: keys[0], coordinatorKeys: keys });

  it('forwards group and transaction keys the principal may describe', () => {
    for (const v of versions(key)) {
      expect(authorize(key, find(0, 'viewable'), v)).toEqual(UNTOUCHED);
      if (v >= 1) expect(authorize(key, find(1, 'app-tx'), v)).toEqual(UNTOUCHED);
      if (v >= 4) expect(authorize(key, find(0, 'viewable', 'app-1'), v)).toEqual(UNTOUCHED);
    }
  });

  it("answers one denied key (v0-3) with the top-level error, Kafka's message for it and no node", () => {
    for (const v of versions(key).filter((v) => v < 4)) {
      const group = authorize(key, find(0, 'other'), v);
      expect(answered<FindCoordinatorResponse>(group)).toMatchObject({ errorCode: 30, errorMessage: 'Group authorization failed.', nodeId: -1, host: '', port: -1 });
      expectWritable(key, group, v);
      if (v === 0) continue; // no key type before v1
      const txn = authorize(key, find(1, 'other-tx'), v);
      expect(answered<FindCoordinatorResponse>(txn)).toMatchObject({ errorCode: 53, errorMessage: 'Transactional Id authorization failed.', nodeId: -1, host: '', port: -1 });
      expectWritable(key, txn, v);
    }
  });

  it('rebuilds without denied keys (v4+) and merges them back with their error', () => {
    for (const v of versions(key).filter((v) => v >= 4)) {
      const outcome = authorize(key, find(1, 'app-tx', 'other-tx'), v);
      const { request, edit } = rebuilt<FindCoordinatorRequest, FindCoordinatorResponse>(outcome);
      expect(request.coordinatorKeys).toEqual(['app-tx']);
      expect(request.keyType).toBe(1);
      expectWritable(key, outcome, v);
      const resp = {
        ...defaultFindCoordinatorResponse(),
        coordinators: [{ ...defaultFindCoordinatorResponseCoordinator(), key: 'app-tx', nodeId: 2, host: 'b2', port: 9092 }],
      };
      edit(resp);
      expect(resp.coordinators.map((c) => [c.key, c.errorCode, c.nodeId, c.host, c.port])).toEqual([
        ['app-tx', 0, 2, 'b2', 9092],
        ['other-tx', 53, -1, '', -1],
      ]);
    }
  });

  it('answers when every key (v4+) is denied', () => {
    for (const v of versions(key).filter((v) => v >= 4)) {
      const outcome = authorize(key, find(0, 'other', 'nope'), v);
      expect(answered<FindCoordinatorResponse>(outcome).coordinators.map((c) => [c.key, c.errorCode, c.nodeId, c.port])).toEqual([
        ['other', 30, -1, -1],
        ['nope', 30, -1, -1],
      ]);
      expectWritable(key, outcome, v);
    }
  });

  it('answers an unknown key type, and a share key before v6, with INVALID_REQUEST, without a denial', () => {
    const h = harness();
    expect(answered<FindCoordinatorResponse>(authorize(key, find(2, 'app-1'), 3, h))).toMatchObject({ errorCode: 42, errorMessage: expect.stringContaining('malformed') });
    const perKey = authorize(key, find(7, 'app-1', 'other'), 4, h);
    // As Kafka, which cannot parse the key type: every key, with the code's message.
    expect(answered<FindCoordinatorResponse>(perKey).coordinators.map((c) => [c.errorCode, c.errorMessage !== null])).toEqual([
      [42, true],
      [42, true],
    ]);
    expectWritable(key, perKey, 4);
    for (const v of [4, 5]) {
      const share = authorize(key, find(2, 'app-1:0'), v, h);
      expect(answered<FindCoordinatorResponse>(share).coordinators.map((c) => [c.key, c.errorCode, c.errorMessage])).toEqual([['app-1:0', 42, null]]);
    }
    expect(h.logs).toEqual([]);
  });

  it('answers a share key (v6) with 31: it needs ClusterAction, never a client\'s', () => {
    const h = harness('audit');
    const outcome = authorize(key, find(2, 'app-1:0'), 6, h);
    expect(answered<FindCoordinatorResponse>(outcome).coordinators.map((c) => [c.key, c.errorCode, c.nodeId])).toEqual([['app-1:0', 31, -1]]);
    expectWritable(key, outcome, 6);
    expect(denialsOf(h)).toEqual(['cluster:kafka-cluster:cluster-action']);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, find(0, 'other', 'secret-group'), 4, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:describe', 'group:secret-group:describe']);
  });
});

describe('group membership: JoinGroup, Heartbeat, LeaveGroup, SyncGroup', () => {
  const membership = [
    { name: 'JoinGroup', key: API_KEYS.JoinGroup, request: { ...defaultJoinGroupRequest(), memberId: 'member-7', protocolType: 'consumer' } },
    { name: 'Heartbeat', key: API_KEYS.Heartbeat, request: { ...defaultHeartbeatRequest(), memberId: 'member-7', generationId: 4 } },
    {
      name: 'LeaveGroup',
      key: API_KEYS.LeaveGroup,
      request: { ...defaultLeaveGroupRequest(), memberId: 'member-7', members: [{ memberId: 'member-7', groupInstanceId: null, reason: null }] },
    },
    {
      name: 'SyncGroup',
      key: API_KEYS.SyncGroup,
      request: { ...defaultSyncGroupRequest(), memberId: 'member-7', generationId: 4, protocolType: 'consumer', protocolName: 'range' },
    },
  ];

  for (const { name, key, request } of membership) {
    it(`${name}: forwards with Group Read and answers 30 without it (Describe is not enough), at every version`, () => {
      for (const v of versions(key)) {
        expect(authorize(key, { ...request, groupId: 'app-1' }, v)).toEqual(UNTOUCHED);
        const h = harness();
        const outcome = authorize(key, { ...request, groupId: 'viewable' }, v, h);
        expect(answered<{ errorCode: number }>(outcome).errorCode).toBe(30);
        expectWritable(key, outcome, v);
        expect(denialsOf(h)).toEqual(['group:viewable:read']);
      }
    });
  }

  it('JoinGroup: a denial has no member id, no generation, and a null protocol name only where the field is nullable', () => {
    const request = { ...defaultJoinGroupRequest(), groupId: 'other', memberId: 'member-7' };
    const answer = (v: number) => answered<JoinGroupResponse>(authorize(API_KEYS.JoinGroup, request, v));
    // As JoinGroupRequest.getErrorResponse: UNKNOWN_MEMBER_ID, whatever the request named.
    expect(answer(6)).toMatchObject({ memberId: '', generationId: -1, protocolName: '', leader: '', members: [] });
    expect(answer(7)).toMatchObject({ memberId: '', generationId: -1, protocolName: null });
  });

  it('SyncGroup v5+ without protocol type or name: INCONSISTENT_GROUP_PROTOCOL (23) before any authorization', () => {
    for (const missing of [{ protocolType: null }, { protocolName: null }]) {
      const h = harness();
      const request = { ...defaultSyncGroupRequest(), groupId: 'other', protocolType: 'consumer', protocolName: 'range', ...missing };
      const outcome = authorize(API_KEYS.SyncGroup, request, 5, h);
      expect(answered<{ errorCode: number }>(outcome).errorCode).toBe(23);
      expectWritable(API_KEYS.SyncGroup, outcome, 5);
      expect(h.logs).toEqual([]);
      // Before v5 the fields are not required: the group is checked.
      expect(answered<{ errorCode: number }>(authorize(API_KEYS.SyncGroup, request, 4)).errorCode).toBe(30);
    }
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(API_KEYS.SyncGroup, { ...defaultSyncGroupRequest(), groupId: 'other', protocolType: 'consumer', protocolName: 'range' }, 5, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:read']);
  });
});

describe('DescribeGroups', () => {
  const key = API_KEYS.DescribeGroups;
  const describeGroups = (groups: string[], includeAuthorizedOperations = false): DescribeGroupsRequest => ({
    ...defaultDescribeGroupsRequest(),
    groups,
    includeAuthorizedOperations,
  });
  const described = (groupId: string, errorCode = 0) => ({
    ...defaultDescribeGroupsResponseDescribedGroup(),
    groupId,
    errorCode,
    groupState: 'Stable',
    protocolType: 'consumer',
  });

  it('forwards groups that may all be described untouched', () => {
    expect(authorize(key, describeGroups(['app-1', 'viewable']), 2)).toEqual(UNTOUCHED);
  });

  it('answers when no group may be described: one entry with 30 and nothing else per group', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, describeGroups(['other', 'nope'], v >= 3), v);
      expect(answered<DescribeGroupsResponse>(outcome).groups).toEqual([
        { ...defaultDescribeGroupsResponseDescribedGroup(), groupId: 'other', errorCode: 30 },
        { ...defaultDescribeGroupsResponseDescribedGroup(), groupId: 'nope', errorCode: 30 },
      ]);
      expect(answered<DescribeGroupsResponse>(outcome).groups[0]).toMatchObject({ groupState: '', members: [], authorizedOperations: NOT_REQUESTED });
      expectWritable(key, outcome, v);
    }
  });

  it('rebuilds without denied groups, merges them back and reports authorized operations from the policy', () => {
    for (const v of versions(key)) {
      const include = v >= 3;
      const outcome = authorize(key, describeGroups(['app-old', 'other', 'viewable'], include), v);
      const { request, edit } = rebuilt<DescribeGroupsRequest, DescribeGroupsResponse>(outcome);
      expect(request.groups).toEqual(['app-old', 'viewable']);
      expectWritable(key, outcome, v);
      const resp = { ...defaultDescribeGroupsResponse(), groups: [described('app-old'), described('viewable')] };
      edit(resp);
      // Kafka lists the denied groups first.
      expect(resp.groups.map((g) => [g.groupId, g.errorCode, g.groupState, g.authorizedOperations])).toEqual([
        ['other', 30, '', NOT_REQUESTED],
        ['app-old', 0, 'Stable', include ? READ | DESCRIBE | DELETE : NOT_REQUESTED],
        ['viewable', 0, 'Stable', include ? DESCRIBE : NOT_REQUESTED],
      ]);
    }
  });

  it('sets authorized operations on an allowed request too, except on groups the broker reports an error for', () => {
    const edit = forwardEdit<DescribeGroupsResponse>(authorize(key, describeGroups(['app-1', 'app-2'], true), 5));
    const resp = { ...defaultDescribeGroupsResponse(), groups: [described('app-1'), described('app-2', 16)] };
    edit(resp);
    expect(resp.groups.map((g) => g.authorizedOperations)).toEqual([READ | DESCRIBE, NOT_REQUESTED]);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, describeGroups(['other']), 1, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:describe']);
  });
});

describe('ListGroups', () => {
  const key = API_KEYS.ListGroups;
  const listed = (...ids: string[]): ListGroupsResponse => ({
    ...defaultListGroupsResponse(),
    groups: ids.map((groupId) => ({ ...defaultListGroupsResponseListedGroup(), groupId, protocolType: 'consumer' })),
  });

  it('forwards untouched for a principal that may describe the cluster', () => {
    expect(authorize(key, defaultListGroupsRequest(), 4, harness('enforce', 'bob'))).toEqual(UNTOUCHED);
  });

  it('keeps exactly the groups the principal may describe, silently', () => {
    for (const v of versions(key)) {
      const h = harness();
      const edit = forwardEdit<ListGroupsResponse>(authorize(key, defaultListGroupsRequest(), v, h));
      const resp = listed('app-1', 'other', 'viewable', 'secret', 'app-old');
      edit(resp);
      expect(resp.groups.map((g) => g.groupId)).toEqual(['app-1', 'viewable', 'app-old']);
      expect(resp.errorCode).toBe(0);
      expect(h.logs).toEqual([]);
    }
  });

  it('lists every group in audit mode, where the cluster check passes too, without logging', () => {
    const h = harness('audit');
    expect(authorize(key, defaultListGroupsRequest(), 3, h)).toEqual(UNTOUCHED);
    expect(h.logs).toEqual([]);
  });
});

describe('DeleteGroups', () => {
  const key = API_KEYS.DeleteGroups;
  const deleteGroups = (...groupsNames: string[]): DeleteGroupsRequest => ({ ...defaultDeleteGroupsRequest(), groupsNames });

  it('forwards groups the principal may delete', () => {
    expect(authorize(key, deleteGroups('app-old'), 2)).toEqual(UNTOUCHED);
  });

  it('answers 30 per group when none may be deleted (Read is not Delete)', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, deleteGroups('app-1', 'other'), v);
      expect(answered<DeleteGroupsResponse>(outcome).results).toEqual([
        { groupId: 'app-1', errorCode: 30 },
        { groupId: 'other', errorCode: 30 },
      ]);
      expectWritable(key, outcome, v);
    }
  });

  it('answers a group named twice once, as Kafka (which ignores repeated names)', () => {
    const outcome = authorize(key, deleteGroups('other', 'other', 'app-1'), 2);
    expect(answered<DeleteGroupsResponse>(outcome).results).toEqual([
      { groupId: 'other', errorCode: 30 },
      { groupId: 'app-1', errorCode: 30 },
    ]);
  });

  it('rebuilds with the deletable groups and merges the others back', () => {
    for (const v of versions(key)) {
      const outcome = authorize(key, deleteGroups('app-1', 'app-old'), v);
      const { request, edit } = rebuilt<DeleteGroupsRequest, DeleteGroupsResponse>(outcome);
      expect(request.groupsNames).toEqual(['app-old']);
      expectWritable(key, outcome, v);
      const resp = { ...defaultDeleteGroupsResponse(), results: [{ groupId: 'app-old', errorCode: 0 }] };
      edit(resp);
      expect(resp.results).toEqual([
        { groupId: 'app-old', errorCode: 0 },
        { groupId: 'app-1', errorCode: 30 },
      ]);
    }
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, deleteGroups('app-1'), 0, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:app-1:delete']);
  });
});

describe('OffsetDelete', () => {
  const key = API_KEYS.OffsetDelete;
  const offsetDelete = (groupId: string, ...names: string[]): OffsetDeleteRequest => ({
    ...defaultOffsetDeleteRequest(),
    groupId,
    topics: names.map((name, i) => ({ name, partitions: [{ partitionIndex: i }] })),
  });

  it('forwards with Group Delete and Topic Read', () => {
    expect(authorize(key, offsetDelete('app-old', 'orders', 'orders-eu'), 0)).toEqual(UNTOUCHED);
  });

  it('answers a group without Delete with the top-level 30', () => {
    const outcome = authorize(key, offsetDelete('app-1', 'orders'), 0);
    expect(answered<OffsetDeleteResponse>(outcome)).toMatchObject({ errorCode: 30, topics: [] });
    expectWritable(key, outcome, 0);
  });

  it('rebuilds without unreadable topics and merges 29 per partition', () => {
    const outcome = authorize(key, offsetDelete('app-old', 'orders', 'catalog'), 0);
    const { request, edit } = rebuilt<OffsetDeleteRequest, OffsetDeleteResponse>(outcome);
    expect(request).toEqual(offsetDelete('app-old', 'orders'));
    expectWritable(key, outcome, 0);
    const resp = { ...defaultOffsetDeleteResponse(), topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] };
    edit(resp);
    expect(resp.topics).toEqual([
      { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
      { name: 'catalog', partitions: [{ partitionIndex: 1, errorCode: 29 }] },
    ]);
  });

  it('answers with 29 per partition when no topic is readable', () => {
    const outcome = authorize(key, offsetDelete('app-old', 'secret'), 0);
    expect(answered<OffsetDeleteResponse>(outcome)).toMatchObject({
      errorCode: 0,
      topics: [{ name: 'secret', partitions: [{ partitionIndex: 0, errorCode: 29 }] }],
    });
    expectWritable(key, outcome, 0);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, offsetDelete('other', 'secret'), 0, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:delete', 'topic:secret:read']);
  });
});

describe('ConsumerGroupHeartbeat', () => {
  const key = API_KEYS.ConsumerGroupHeartbeat;
  const heartbeat = (groupId: string, subscribedTopicNames: string[] | null) => ({
    ...defaultConsumerGroupHeartbeatRequest(),
    groupId,
    memberId: 'm',
    subscribedTopicNames,
  });

  it('forwards with Group Read and Describe on every subscribed topic, or an unchanged (null) subscription', () => {
    expect(authorize(key, heartbeat('app-1', ['orders', 'catalog']), 0)).toEqual(UNTOUCHED);
    expect(authorize(key, heartbeat('app-1', null), 0)).toEqual(UNTOUCHED);
  });

  it('answers 30 without Group Read', () => {
    const outcome = authorize(key, heartbeat('viewable', ['orders']), 0);
    expect(answered<ConsumerGroupHeartbeatResponse>(outcome)).toMatchObject({ errorCode: 30, memberId: null, assignment: null });
    expectWritable(key, outcome, 0);
  });

  it('answers 29 when any subscribed topic may not be described, logging each (Kafka 4.0’s check: 3.9 would assign it and so tell that it exists)', () => {
    const h = harness();
    const outcome = authorize(key, heartbeat('app-1', ['secret', 'orders', 'hidden']), 0, h);
    expect(answered<ConsumerGroupHeartbeatResponse>(outcome).errorCode).toBe(29);
    expectWritable(key, outcome, 0);
    expect(denialsOf(h)).toEqual(['topic:secret:describe', 'topic:hidden:describe']);
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, heartbeat('other', ['secret']), 0, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:read', 'topic:secret:describe']);
  });
});

describe('ConsumerGroupDescribe', () => {
  const key = API_KEYS.ConsumerGroupDescribe;
  const describeGroups = (groupIds: string[], includeAuthorizedOperations = false) => ({
    ...defaultConsumerGroupDescribeRequest(),
    groupIds,
    includeAuthorizedOperations,
  });
  const described = (groupId: string) => ({ ...defaultConsumerGroupDescribeResponseDescribedGroup(), groupId, groupState: 'Stable', groupEpoch: 5 });

  it('forwards groups that may all be described untouched', () => {
    expect(authorize(key, describeGroups(['app-1', 'viewable']), 0)).toEqual(UNTOUCHED);
  });

  it('answers 30 per group when none may be described', () => {
    const outcome = authorize(key, describeGroups(['other', 'nope'], true), 0);
    expect(answered<ConsumerGroupDescribeResponse>(outcome).groups.map((g) => [g.groupId, g.errorCode, g.authorizedOperations])).toEqual([
      ['other', 30, NOT_REQUESTED],
      ['nope', 30, NOT_REQUESTED],
    ]);
    expectWritable(key, outcome, 0);
  });

  it('rebuilds without denied groups, merges them back and reports authorized operations when asked', () => {
    for (const include of [false, true]) {
      const outcome = authorize(key, describeGroups(['other', 'app-1'], include), 0);
      const { request, edit } = rebuilt<{ groupIds: string[] }, ConsumerGroupDescribeResponse>(outcome);
      expect(request.groupIds).toEqual(['app-1']);
      expectWritable(key, outcome, 0);
      const resp = { ...defaultConsumerGroupDescribeResponse(), groups: [described('app-1')] };
      edit(resp);
      // Kafka lists the denied groups first.
      expect(resp.groups.map((g) => [g.groupId, g.errorCode, g.groupEpoch, g.authorizedOperations])).toEqual([
        ['other', 30, 0, NOT_REQUESTED],
        ['app-1', 0, 5, include ? READ | DESCRIBE : NOT_REQUESTED],
      ]);
    }
  });

  it('forwards in audit mode and logs', () => {
    const h = harness('audit');
    expect(authorize(key, describeGroups(['other']), 0, h)).toEqual(UNTOUCHED);
    expect(denialsOf(h)).toEqual(['group:other:describe']);
  });
});

it('GROUP_RULES covers exactly the consumer-group APIs', () => {
  const names = Object.keys(GROUP_RULES).map((k) => APIS.find((a) => a.apiKey === Number(k))!.name);
  expect(names.sort()).toEqual(
    [
      'ConsumerGroupDescribe',
      'ConsumerGroupHeartbeat',
      'DeleteGroups',
      'DescribeGroups',
      'FindCoordinator',
      'Heartbeat',
      'JoinGroup',
      'LeaveGroup',
      'ListGroups',
      'OffsetCommit',
      'OffsetDelete',
      'OffsetFetch',
      'SyncGroup',
    ].sort(),
  );
});

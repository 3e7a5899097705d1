import { describe, expect, it } from 'vitest';
import { metadataRule } from '../../src/authz/api-rules/metadata.js';
import { fetchRule } from '../../src/authz/api-rules/fetch.js';
import { produceRule } from '../../src/authz/api-rules/produce.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { CLIENT_API_RANGES } from '../../src/proxy/client-apis.js';
import { type FetchRequest, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { type MetadataRequest, defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import { type MetadataResponse, defaultMetadataResponse, defaultMetadataResponseTopic } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { type ProduceRequest, defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { type ProduceResponse, defaultProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { Writer } from '../../src/protocol/writer.js';
import { recordBatch } from '../support/record-batch.js';
import { ruleHarness } from '../support/rule-harness.js';

const POLICY = `
roles:
  app:
    - { topics: ["orders", "eu-*"], operations: [write, read] }
    - { topics: ["creatable-*"], operations: [create, describe] }
    - { transactionalIds: ["tx-*"], operations: [write] }
`;
const harness = (mode: 'enforce' | 'audit' = 'enforce') => ruleHarness(POLICY, { roles: ['app'], mode, topicIds: { ID_ORDERS: 'orders', ID_SECRET: 'secret' } });

function produce(topics: string[], transactionalId: string | null = null, records: Buffer = Buffer.from('batch')): ProduceRequest {
  return {
    ...defaultProduceRequest(),
    transactionalId,
    topicData: topics.map((name) => ({ name, partitionData: [0, 1].map((index) => ({ index, records })) })),
  };
}

/** A record batch with the transactional attribute set (the rule reads the attributes only, not the CRC). */
function transactionalBatch(): Buffer {
  const batch = Buffer.from(recordBatch(['v']));
  batch.writeInt16BE(0x10, 21);
  return batch;
}

/** Every version of the API must be able to carry what the rule built. */
function encodesAtEveryVersion(apiKey: number, kind: 'request' | 'response', message: object, versions: number[]): void {
  const codec = (kind === 'request' ? REQUEST_CODECS : RESPONSE_CODECS)[apiKey];
  for (const v of versions) expect(() => codec.write(new Writer(), message, v)).not.toThrow();
}

describe('Produce rule', () => {
  it('forwards a request whose topics are all writable', () => {
    expect(produceRule.authorize(produce(['orders', 'eu-1']), harness().ctx(9))).toEqual({ action: 'forward' });
  });

  it('answers 29 on every partition when no topic is writable, and logs each denial', () => {
    const h = harness();
    const out = produceRule.authorize(produce(['secret', 'other']), h.ctx(9));
    expect(out.action).toBe('answer');
    const resp = (out as { response: ProduceResponse }).response;
    expect(resp.responses.map((t) => [t.name, t.partitionResponses.map((p) => [p.index, p.errorCode])])).toEqual([
      ['secret', [[0, 29], [1, 29]]],
      ['other', [[0, 29], [1, 29]]],
    ]);
    expect(h.logs.flatMap((l) => (l.resources as { resourceName: string }[]).map((r) => r.resourceName))).toEqual(['secret', 'other']);
    encodesAtEveryVersion(API_KEYS.Produce, 'response', resp, [3, 7, 9, 11]);
  });

  it('forwards only the writable topics of a mixed request and merges the denied ones into the answer', () => {
    const out = produceRule.authorize(produce(['orders', 'secret']), harness().ctx(9));
    if (out.action !== 'rebuild') throw new Error(`expected rebuild, got ${out.action}`);
    expect((out.request as ProduceRequest).topicData.map((t) => t.name)).toEqual(['orders']);
    const broker: ProduceResponse = { ...defaultProduceResponse(), responses: [{ name: 'orders', partitionResponses: [], _unknownTaggedFields: undefined }] };
    out.edit!(broker);
    expect(broker.responses.map((t) => [t.name, t.partitionResponses.map((p) => p.errorCode)])).toEqual([
      ['orders', []],
      ['secret', [29, 29]],
    ]);
    encodesAtEveryVersion(API_KEYS.Produce, 'request', out.request, [3, 9, 11]);
  });

  it('answers 53 on every partition for transactional records whose transactional id has no Write', () => {
    const out = produceRule.authorize(produce(['orders'], 'other-tx', transactionalBatch()), harness().ctx(9));
    expect(out.action).toBe('answer');
    expect((out as { response: ProduceResponse }).response.responses[0].partitionResponses.map((p) => p.errorCode)).toEqual([53, 53]);
    expect(produceRule.authorize(produce(['orders'], 'tx-1', transactionalBatch()), harness().ctx(9))).toEqual({ action: 'forward' });
  });

  it('checks the transactional id only when the records are transactional, as Kafka (RequestUtils.hasTransactionalRecords)', () => {
    const h = harness();
    expect(produceRule.authorize(produce(['orders'], 'other-tx', recordBatch(['v'])), h.ctx(9))).toEqual({ action: 'forward' });
    expect(produceRule.authorize(produce(['orders'], 'other-tx'), h.ctx(9))).toEqual({ action: 'forward' });
    expect(h.logs).toEqual([]);
  });

  it('refuses transactional or control records without a transactional id (53), in every mode, and logs it', () => {
    const control = Buffer.from(recordBatch(['v']));
    control.writeInt16BE(0x20, 21);
    for (const [version, records] of [
      [9, transactionalBatch()],
      [2, Buffer.concat([Buffer.from(recordBatch(['v'])), control])],
    ] as const) {
      const h = harness('audit');
      const out = produceRule.authorize(produce(['orders'], null, records), h.ctx(version));
      expect(out.action, `v${version}`).toBe('answer');
      expect((out as { response: ProduceResponse }).response.responses[0].partitionResponses.map((p) => p.errorCode)).toEqual([53, 53]);
      expect(h.logs).toEqual([expect.objectContaining({ msg: 'authorization denied', resources: [{ resourceType: 'transactionalId', resourceName: '', operation: 'write' }] })]);
    }
  });

  it('forwards everything in audit mode and logs what enforcement would deny', () => {
    const h = harness('audit');
    expect(produceRule.authorize(produce(['orders', 'secret']), h.ctx(9))).toEqual({ action: 'forward' });
    expect(h.logs).toEqual([
      expect.objectContaining({ msg: 'audit: request would be denied in enforce mode', resources: [{ resourceType: 'topic', resourceName: 'secret', operation: 'write' }] }),
    ]);
  });
});

function fetchOf(topics: { topic?: string; topicId?: string }[]): FetchRequest {
  return {
    ...defaultFetchRequest(),
    topics: topics.map((t) => ({ ...defaultFetchRequestFetchTopic(), ...t, partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 3 }] })),
  };
}

describe('Fetch rule', () => {
  it('authorizes by name before v13 and by the learned name of the topic id from v13', () => {
    expect(fetchRule.authorize(fetchOf([{ topic: 'orders' }]), harness().ctx(12))).toEqual({ action: 'forward' });
    expect(fetchRule.authorize(fetchOf([{ topicId: 'ID_ORDERS' }]), harness().ctx(13))).toEqual({ action: 'forward' });
    expect(fetchRule.topicIds!(fetchOf([{ topicId: 'ID_ORDERS' }]), 13)).toEqual(['ID_ORDERS']);
    expect(fetchRule.topicIds!(fetchOf([{ topic: 'orders' }]), 12)).toEqual([]);
  });

  it('answers 29 for a denied topic id and 100 for an id nobody could name', () => {
    const out = fetchRule.authorize(fetchOf([{ topicId: 'ID_SECRET' }, { topicId: 'ID_UNKNOWN' }]), harness().ctx(13));
    expect(out.action).toBe('answer');
    const resp = (out as { response: FetchResponse }).response;
    expect(resp.responses.map((t) => [t.topicId, t.partitions[0].partitionIndex, t.partitions[0].errorCode, t.partitions[0].highWatermark])).toEqual([
      ['ID_SECRET', 3, 29, -1n],
      ['ID_UNKNOWN', 3, 100, -1n],
    ]);
    encodesAtEveryVersion(API_KEYS.Fetch, 'response', { ...resp, responses: resp.responses.map((t) => ({ ...t, topicId: ZERO_UUID })) }, [4, 11, 12, 13, 15]);
  });

  it('forwards the readable topics of a mixed fetch and puts the denied partitions in front of the streamed answer', () => {
    const out = fetchRule.authorize(fetchOf([{ topic: 'orders' }, { topic: 'secret' }]), harness().ctx(12));
    if (out.action !== 'rebuild') throw new Error(`expected rebuild, got ${out.action}`);
    expect((out.request as FetchRequest).topics.map((t) => t.topic)).toEqual(['orders']);
    // No edit of a decoded response: that would hold the whole fetch in memory.
    expect(out.edit).toBeUndefined();
    const leading = out.leading as FetchResponse['responses'];
    expect(leading.map((t) => [t.topic, t.partitions[0].partitionIndex, t.partitions[0].errorCode])).toEqual([['secret', 3, 29]]);
  });

  it('refuses a fetch that claims to be a follower replica, whatever the grants, as Kafka without ClusterAction: 29 on every partition', () => {
    const h = harness('audit');
    const out = fetchRule.authorize({ ...fetchOf([{ topic: 'orders' }, { topic: 'eu-1' }]), replicaId: 1 }, h.ctx(12));
    expect(out.action).toBe('answer');
    const resp = (out as { response: FetchResponse }).response;
    expect(resp.errorCode).toBe(0);
    expect(resp.responses.map((t) => [t.topic, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])).toEqual([
      ['orders', [[3, 29]]],
      ['eu-1', [[3, 29]]],
    ]);
    expect(h.logs.flatMap((l) => (l.resources as { resourceType: string; operation: string }[]).map((r) => `${r.resourceType}:${r.operation}`))).toEqual(['cluster:cluster-action']);
  });
});

function metadataOf(names: string[] | null, allowAutoTopicCreation = true): MetadataRequest {
  return { ...defaultMetadataRequest(), allowAutoTopicCreation, topics: names && names.map((name) => ({ topicId: ZERO_UUID, name })) };
}

function brokerMetadata(names: string[]): MetadataResponse {
  return { ...defaultMetadataResponse(), topics: names.map((name) => ({ ...defaultMetadataResponseTopic(), name, partitions: [] })) };
}

describe('Metadata rule', () => {
  it('silently leaves topics the principal may not describe out of an all-topics listing', () => {
    const h = harness();
    const out = metadataRule.authorize(metadataOf(null), h.ctx(12));
    if (out.action !== 'forward' || !out.edit) throw new Error('expected a forward with an edit');
    const resp = brokerMetadata(['orders', 'secret', 'eu-west']);
    out.edit!(resp);
    expect(resp.topics.map((t) => t.name)).toEqual(['orders', 'eu-west']);
    expect(h.logs).toEqual([]);
  });

  it('is offered from v0, as brokers do; below v4 a request that must not create topics is asked at v4', () => {
    expect(CLIENT_API_RANGES[API_KEYS.Metadata]).toMatchObject({ minVersion: 0 });
    for (const version of [0, 1, 2, 3]) {
      const h = harness();
      const out = metadataRule.authorize(metadataOf(['orders', 'creatable-1', 'secret']), h.ctx(version));
      if (out.action !== 'rebuild') throw new Error(`expected rebuild, got ${out.action}`);
      expect(out.version).toBe(4);
      expect(out.request).toMatchObject({ allowAutoTopicCreation: false, topics: [{ name: 'orders' }, { name: 'creatable-1' }] });
      encodesAtEveryVersion(API_KEYS.Metadata, 'request', out.request, [4]);
      const resp = brokerMetadata(['orders', 'creatable-1']);
      resp.topics[0].errorCode = 3;
      out.edit!(resp);
      expect(resp.topics.map((t) => [t.name, t.errorCode])).toEqual([
        ['orders', 29],
        ['creatable-1', 0],
        ['secret', 29],
      ]);
      // One line for the request's describe denial, one for the creation the broker's answer showed was needed.
      expect(h.logs.map((l) => l.resources)).toEqual([
        [{ resourceType: 'topic', resourceName: 'secret', operation: 'describe' }],
        [{ resourceType: 'topic', resourceName: 'orders', operation: 'create' }],
      ]);
    }
    // Where every named topic may be created, the client's own bytes go: nothing to refuse.
    expect(metadataRule.authorize(metadataOf(['creatable-1']), harness().ctx(1)).action).toBe('forward');
  });

  it('lets the broker create the topic in audit mode, and logs the creation enforcement would refuse', () => {
    const h = harness('audit');
    const out = metadataRule.authorize(metadataOf(['orders']), h.ctx(2));
    if (out.action !== 'forward' || !out.edit) throw new Error('expected a forward with an edit');
    const resp = brokerMetadata(['orders']);
    resp.topics[0].errorCode = 3;
    out.edit(resp);
    expect(resp.topics.map((t) => [t.name, t.errorCode])).toEqual([['orders', 3]]);
    expect(h.logs).toEqual([
      expect.objectContaining({ msg: 'audit: request would be denied in enforce mode', api: 'Metadata', resources: [{ resourceType: 'topic', resourceName: 'orders', operation: 'create' }] }),
    ]);
  });

  it('reads an empty v0 list as every topic, and a list emptied by denials is never sent at v0', () => {
    const all = metadataRule.authorize(metadataOf([]), harness().ctx(0));
    if (all.action !== 'forward' || !all.edit) throw new Error('expected a forward with an edit');
    const resp = brokerMetadata(['orders', 'secret']);
    all.edit(resp);
    expect(resp.topics.map((t) => t.name)).toEqual(['orders']);
    const emptied = metadataRule.authorize(metadataOf(['secret']), harness().ctx(0));
    expect(emptied).toMatchObject({ action: 'rebuild', version: 4, request: { topics: [] } });
  });

  it('answers a named denied topic with 29 and nothing that reveals whether it exists', () => {
    const out = metadataRule.authorize(metadataOf(['orders', 'secret'], false), harness().ctx(12));
    if (out.action !== 'rebuild') throw new Error(`expected rebuild, got ${out.action}`);
    expect((out.request as MetadataRequest).topics!.map((t) => t.name)).toEqual(['orders']);
    const resp = brokerMetadata(['orders']);
    out.edit!(resp);
    expect(resp.topics.map((t) => [t.name, t.errorCode, t.partitions.length, t.topicId])).toEqual([
      ['orders', 0, 0, ZERO_UUID],
      ['secret', 29, 0, ZERO_UUID],
    ]);
    encodesAtEveryVersion(API_KEYS.Metadata, 'request', out.request, [1, 4, 9, 12]);
  });

  it('switches automatic topic creation off unless every named topic may be created, and answers 29 for a missing one', () => {
    const mixed = metadataRule.authorize(metadataOf(['orders', 'creatable-1']), harness().ctx(9));
    if (mixed.action !== 'rebuild') throw new Error(`expected rebuild, got ${mixed.action}`);
    expect(mixed.request).toMatchObject({ allowAutoTopicCreation: false });
    const resp = brokerMetadata(['orders', 'creatable-1']);
    for (const t of resp.topics) t.errorCode = 3;
    mixed.edit!(resp);
    // Without Create, a topic that does not exist is an authorization failure, as a broker with an authorizer says.
    expect(resp.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['orders', 29],
      ['creatable-1', 3],
    ]);
    const creatable = metadataRule.authorize(metadataOf(['creatable-1']), harness().ctx(9));
    expect(creatable.action).toBe('forward');
  });

  it('resolves topics named by id and reports authorized operations from the policy', () => {
    const out = metadataRule.authorize({ ...metadataOf(null), topics: [{ topicId: 'ID_SECRET', name: null }], includeTopicAuthorizedOperations: true }, harness().ctx(12));
    if (out.action !== 'rebuild') throw new Error(`expected rebuild, got ${out.action}`);
    expect((out.request as MetadataRequest).topics).toEqual([]);
    const resp = brokerMetadata([]);
    out.edit!(resp);
    expect(resp.topics).toEqual([expect.objectContaining({ name: null, topicId: 'ID_SECRET', errorCode: 29, partitions: [] })]);

    const allowed = metadataRule.authorize({ ...metadataOf(['orders']), includeTopicAuthorizedOperations: true }, harness().ctx(12));
    const withOps = brokerMetadata(['orders']);
    withOps.topics[0].topicAuthorizedOperations = 0x7fff;
    (allowed as { edit: (r: MetadataResponse) => void }).edit(withOps);
    // read (3), write (4) and describe (8) only: the broker, without an authorizer, reported everything.
    expect(withOps.topics[0].topicAuthorizedOperations).toBe((1 << 3) | (1 << 4) | (1 << 8));
  });
});

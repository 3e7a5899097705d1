import { describe, expect, it } from 'vitest';
import { appendAll } from '../../src/authz/api-rules/rule.js';
import { DEFAULT_MAX_ENTITIES_PER_REQUEST } from '../../src/config/schema.js';
import { createLogger } from '../../src/observe/logger.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import { type MetadataResponse, defaultMetadataResponse, defaultMetadataResponseTopic } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultOffsetFetchRequest } from '../../src/protocol/generated/messages/OffsetFetchRequest.js';
import { type OffsetFetchResponse, defaultOffsetFetchResponse } from '../../src/protocol/generated/messages/OffsetFetchResponse.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { type ProduceResponse, defaultProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { readRequestHeader, readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { RequestAuthorizer, type RequestDecision } from '../../src/proxy/request-authorizer.js';
import { TopicIds } from '../../src/proxy/topic-ids.js';
import { ruleHarness } from '../support/rule-harness.js';

const POLICY = `
roles:
  app:
    - { topics: ["orders"], operations: [write, read] }
    - { groups: ["app-*"], operations: [read] }
`;

/** Well past the stack depth `push(...items)` survives (about 120,000 on Node 20's default stack). */
const MANY = 200_000;
const denied = (n: number) => Array.from({ length: n }, (_, i) => `made-up-${i}`);

function authorizer(maxEntities = 10 * MANY) {
  const h = ruleHarness(POLICY, { roles: ['app'] });
  return { h, authorizer: new RequestAuthorizer(h.ctx(0).access, new TopicIds(async () => [], createLogger('silent')), maxEntities) };
}

function produceFrame(topics: string[]): Buffer {
  const message = { ...defaultProduceRequest(), acks: -1, topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records: null }] })) };
  return requestFrame(API_KEYS.Produce, 9, 7, 'unit', message);
}

function metadataFrame(topics: string[]): Buffer {
  return requestFrame(API_KEYS.Metadata, 12, 8, 'unit', { ...defaultMetadataRequest(), topics: topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })) });
}

function offsetFetchFrame(version: number, topics: string[]): Buffer {
  const message = { ...defaultOffsetFetchRequest(), groupId: 'app-1', topics: topics.map((name) => ({ name, partitionIndexes: [0] })) };
  return requestFrame(API_KEYS.OffsetFetch, version, 9, 'unit', message);
}

function forwarded(d: RequestDecision): { frame: Buffer; edit: (response: never) => void } {
  if (d.kind !== 'forward' || !d.edit) throw new Error(`expected a forward with an edit, got ${d.kind}`);
  return { frame: d.frame, edit: d.edit };
}

function answered<T>(d: RequestDecision, apiKey: number, version: number): T {
  if (d.kind !== 'answer') throw new Error(`expected an answer, got ${d.kind}`);
  const r = new Reader(d.frame, 4);
  readResponseHeader(r, apiKey, version);
  return RESPONSE_CODECS[apiKey].read(r, version) as T;
}

describe('merging denials into broker answers', () => {
  it('appends any number of entries', () => {
    const target = [0];
    appendAll(target, Array.from({ length: MANY }, (_, i) => i + 1));
    expect(target).toHaveLength(MANY + 1);
    expect(target[MANY]).toBe(MANY);
  });

  it('forwards a Produce with 1 allowed and 200,000 denied topics and merges 200,000 errors into the answer, logged as one line', () => {
    const { h, authorizer: a } = authorizer();
    const { frame, edit } = forwarded(a.decide(produceFrame(['orders', ...denied(MANY)]), API_KEYS.Produce, 9));
    expect(frame.length).toBeLessThan(200);
    const broker: ProduceResponse = { ...defaultProduceResponse(), responses: [{ name: 'orders', partitionResponses: [], _unknownTaggedFields: undefined }] };
    edit(broker as never);
    expect(broker.responses).toHaveLength(MANY + 1);
    expect(broker.responses[MANY]).toMatchObject({ name: `made-up-${MANY - 1}`, partitionResponses: [expect.objectContaining({ errorCode: 29 })] });
    expect(h.logs).toEqual([expect.objectContaining({ msg: 'authorization denied', api: 'Produce', denials: MANY })]);
  });

  it('merges 200,000 denied topics into a Metadata answer, with or without an allowed one', () => {
    const { h, authorizer: a } = authorizer();
    const { edit } = forwarded(a.decide(metadataFrame(['orders', ...denied(MANY)]), API_KEYS.Metadata, 12));
    const broker: MetadataResponse = { ...defaultMetadataResponse(), topics: [{ ...defaultMetadataResponseTopic(), name: 'orders' }] };
    edit(broker as never);
    expect(broker.topics).toHaveLength(MANY + 1);
    expect(broker.topics.filter((t) => t.errorCode === 29)).toHaveLength(MANY);
    // Nothing allowed: the broker is asked for no topic at all, and the denials fill its answer.
    const alone = forwarded(a.decide(metadataFrame(denied(MANY)), API_KEYS.Metadata, 12));
    expect(alone.frame.length).toBeLessThan(200);
    const empty: MetadataResponse = defaultMetadataResponse();
    alone.edit(empty as never);
    expect(empty.topics).toHaveLength(MANY);
    // The same 200,000 denials twice within the window: one line.
    expect(h.logs).toEqual([expect.objectContaining({ api: 'Metadata', denials: MANY })]);
  });

  it('merges 200,000 denied topics into the OffsetFetch answer of an allowed group', () => {
    const { authorizer: a } = authorizer();
    const { edit } = forwarded(a.decide(offsetFetchFrame(7, ['orders', ...denied(MANY)]), API_KEYS.OffsetFetch, 7));
    const broker: OffsetFetchResponse = { ...defaultOffsetFetchResponse(), topics: [] };
    edit(broker as never);
    expect(broker.topics).toHaveLength(MANY);
  });
});

describe('the cap on entities per request', () => {
  it('answers INVALID_REQUEST where the response has a top-level error, and logs the refusal once', () => {
    const { h, authorizer: a } = authorizer(1000);
    const answer = answered<OffsetFetchResponse>(a.decide(offsetFetchFrame(7, denied(501)), API_KEYS.OffsetFetch, 7), API_KEYS.OffsetFetch, 7);
    expect(answer.errorCode).toBe(42);
    expect(answer.topics).toEqual([]);
    // Partitions count as well as names (501 topics of one partition each are 1,002 entries); decoding
    // stops at the first entry past the limit, which is the count logged.
    expect(h.logs).toEqual([
      expect.objectContaining({ level: 'warn', api: 'OffsetFetch', entities: 1001, limit: 1000, answer: 'error response', principal: 'alice', listener: 'test' }),
    ]);
  });

  it('closes the connection (a ProtocolError) where an empty answer would read as success, even when every topic is allowed', () => {
    const { h, authorizer: a } = authorizer(1000);
    const decide = () => a.decide(produceFrame(Array.from({ length: 501 }, () => 'orders')), API_KEYS.Produce, 9);
    expect(decide).toThrow(ProtocolError);
    expect(decide).toThrow('Produce request holds 1002 entries; the limit is 1000');
    expect(h.logs[0]).toMatchObject({ api: 'Produce', entities: 1002, answer: 'connection closed' });
  });

  it('counts partitions: one denied topic with 1,000 partitions is refused before it is decoded or answered', () => {
    const { authorizer: a } = authorizer(1000);
    const message = { ...defaultProduceRequest(), acks: -1, topicData: [{ name: 'made-up', partitionData: Array.from({ length: 1000 }, (_, index) => ({ index, records: null })) }] };
    expect(() => a.decide(requestFrame(API_KEYS.Produce, 9, 7, 'unit', message), API_KEYS.Produce, 9)).toThrow('Produce request holds 1001 entries; the limit is 1000');
  });

  it('bounds APIs without a scanner as they are decoded', () => {
    const reader = new Reader(requestFrame(API_KEYS.Produce, 9, 7, 'unit', { ...defaultProduceRequest(), topicData: [{ name: 'x', partitionData: [{ index: 0, records: null }, { index: 1, records: null }] }] }), 4);
    reader.maxElements = 2;
    readRequestHeader(reader);
    expect(() => REQUEST_CODECS[API_KEYS.Produce].read(reader, 9)).toThrow('more than 2 list elements in one message');
  });

  it('counts a Metadata topic named with a zero id once, and lets exactly the limit through', () => {
    const { authorizer: a } = authorizer(1000);
    expect(a.decide(metadataFrame(denied(1000)), API_KEYS.Metadata, 12).kind).toBe('forward');
    expect(() => a.decide(metadataFrame(denied(1001)), API_KEYS.Metadata, 12)).toThrow(ProtocolError);
  });

  it('defaults to 100,000', () => {
    expect(DEFAULT_MAX_ENTITIES_PER_REQUEST).toBe(100_000);
  });
});

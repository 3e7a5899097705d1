import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ENTITIES_PER_REQUEST } from '../../src/config/schema.js';
import { createLogger } from '../../src/observe/logger.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { type DescribeTopicPartitionsRequest, defaultDescribeTopicPartitionsRequest } from '../../src/protocol/generated/messages/DescribeTopicPartitionsRequest.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { REQUEST_CODECS } from '../../src/protocol/generated/index.js';
import { readRequestHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { type RequestDecision, RequestAuthorizer } from '../../src/proxy/request-authorizer.js';
import { TopicIds } from '../../src/proxy/topic-ids.js';
import { recordBatch } from '../support/record-batch.js';
import { ruleHarness } from '../support/rule-harness.js';

const POLICY = `
roles:
  app:
    - { topics: ["orders", "eu-*"], operations: [write] }
    - { transactionalIds: ["tx-*"], operations: [write] }
`;

function authorizer(mode: 'enforce' | 'audit' = 'enforce') {
  const h = ruleHarness(POLICY, { roles: ['app'], mode });
  return { h, authorizer: new RequestAuthorizer(h.ctx(0).access, new TopicIds(async () => [], createLogger('silent')), DEFAULT_MAX_ENTITIES_PER_REQUEST) };
}

function produceFrame(version: number, topics: string[], transactionalId: string | null = null, records = Buffer.alloc(64, 1)): Buffer {
  const message = {
    ...defaultProduceRequest(),
    transactionalId,
    topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records }] })),
  };
  return requestFrame(API_KEYS.Produce, version, 7, 'unit', message);
}

describe('request authorizer', () => {
  it('forwards an allowed Produce as the very bytes it came in, at every version', () => {
    const { authorizer: a, h } = authorizer();
    for (const version of [0, 3, 7, 9, 11]) {
      const frame = produceFrame(version, ['orders', 'eu-1'], version >= 3 ? 'tx-1' : null);
      const decision = a.decide(frame, API_KEYS.Produce, version);
      expect(decision).toEqual({ kind: 'forward', frame, edit: undefined, verdict: 'allowed' });
      expect((decision as { frame: Buffer }).frame).toBe(frame);
    }
    expect(h.logs).toEqual([]);
  });

  it('sends a partly denied Produce the long way: rebuilt without the denied topic, which is logged once', () => {
    const { authorizer: a, h } = authorizer();
    const frame = produceFrame(9, ['orders', 'payments']);
    const decision = a.decide(frame, API_KEYS.Produce, 9);
    expect(decision).toMatchObject({ kind: 'forward', verdict: 'partial' });
    const rebuilt = (decision as { frame: Buffer }).frame;
    expect(rebuilt).not.toBe(frame);
    expect(rebuilt.includes(Buffer.from('payments'))).toBe(false);
    expect(rebuilt.includes(Buffer.from('orders'))).toBe(true);
    expect(h.logs).toEqual([expect.objectContaining({ msg: 'authorization denied', api: 'Produce', denials: 1, resources: [expect.objectContaining({ resourceName: 'payments' })] })]);
  });

  it('answers a transactional Produce without TransactionalId Write itself', () => {
    const { authorizer: a } = authorizer();
    // A record batch (magic 2) with the transactional attribute: Kafka checks the id only for such records.
    const transactional = Buffer.alloc(64);
    transactional.writeInt32BE(64 - 12, 8);
    transactional[16] = 2;
    transactional.writeInt16BE(0x10, 21);
    // The topic is allowed, but nothing of the request goes ahead: denied, not partial.
    expect(a.decide(produceFrame(9, ['orders'], 'other-tx', transactional), API_KEYS.Produce, 9)).toMatchObject({ kind: 'answer', verdict: 'denied' });
    expect(a.decide(produceFrame(9, ['orders'], 'other-tx'), API_KEYS.Produce, 9).kind).toBe('forward');
  });

  it('before v3 looks at every batch: a transactional batch behind a plain one is refused (53), not forwarded by the scanner', () => {
    const transactional = Buffer.from(recordBatch(['v']));
    transactional.writeInt16BE(0x10, 21);
    const records = Buffer.concat([Buffer.from(recordBatch(['v'])), transactional]);
    for (const version of [0, 2]) {
      const { authorizer: a, h } = authorizer();
      const decision = a.decide(produceFrame(version, ['orders'], null, records), API_KEYS.Produce, version);
      expect(decision.kind, `v${version}`).toBe('answer');
      expect(h.logs).toEqual([expect.objectContaining({ msg: 'authorization denied', api: 'Produce', resources: [{ resourceType: 'transactionalId', resourceName: '', operation: 'write' }] })]);
    }
    // From v3 a request holds one batch per partition: the broker refuses this one itself.
    const { authorizer: a } = authorizer();
    const frame = produceFrame(3, ['orders'], null, records);
    expect(a.decide(frame, API_KEYS.Produce, 3)).toEqual({ kind: 'forward', frame, edit: undefined, verdict: 'allowed' });
  });

  it('in audit mode forwards the original bytes and still logs what enforcement would deny', () => {
    const { authorizer: a, h } = authorizer('audit');
    const frame = produceFrame(9, ['orders', 'payments']);
    expect(a.decide(frame, API_KEYS.Produce, 9)).toEqual({ kind: 'forward', frame, edit: undefined, verdict: 'partial' });
    expect(h.logs).toEqual([expect.objectContaining({ msg: 'audit: request would be denied in enforce mode', resources: [expect.objectContaining({ resourceName: 'payments' })] })]);
  });

  it('lists the cluster before deciding a DescribeTopicPartitions for every topic, then asks the broker only about describable ones', async () => {
    const h = ruleHarness(POLICY, { roles: ['app'] });
    let listings = 0;
    const topicIds = new TopicIds(async () => {
      listings++;
      return ['secret', 'orders', 'payments', 'eu-1'].map((name, i) => ({ topicId: Buffer.alloc(16, i + 1).toString('base64url'), name }));
    }, createLogger('silent'));
    const a = new RequestAuthorizer(h.ctx(0).access, topicIds, DEFAULT_MAX_ENTITIES_PER_REQUEST);
    const key = API_KEYS.DescribeTopicPartitions;
    const frame = requestFrame(key, 0, 7, 'unit', { ...defaultDescribeTopicPartitionsRequest(), topics: [] });
    const first = a.decide(frame, key, 0);
    expect(first.kind).toBe('wait');
    await (first as { ready: Promise<void> }).ready;
    const askedFor = (decision: RequestDecision) => {
      expect(decision.kind).toBe('forward');
      const r = new Reader((decision as { frame: Buffer }).frame, 4);
      readRequestHeader(r);
      return (REQUEST_CODECS[key].read(r, 0) as DescribeTopicPartitionsRequest).topics.map((t) => t.name);
    };
    expect(askedFor(a.decide(frame, key, 0, true))).toEqual(['eu-1', 'orders']);
    // Within a second of the listing, the next page is decided from it without waiting.
    expect(askedFor(a.decide(frame, key, 0))).toEqual(['eu-1', 'orders']);
    expect(listings).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultProduceRequest } from '../../src/protocol/generated/messages/ProduceRequest.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { RequestAuthorizer } from '../../src/proxy/request-authorizer.js';
import { TopicIds } from '../../src/proxy/topic-ids.js';
import { ruleHarness } from '../support/rule-harness.js';

const POLICY = `
roles:
  app:
    - { topics: ["orders", "eu-*"], operations: [write] }
    - { transactionalIds: ["tx-*"], operations: [write] }
`;

function authorizer(mode: 'enforce' | 'audit' = 'enforce') {
  const h = ruleHarness(POLICY, { roles: ['app'], mode });
  return { h, authorizer: new RequestAuthorizer(h.ctx(0).access, new TopicIds(async () => [], createLogger('silent'))) };
}

function produceFrame(version: number, topics: string[], transactionalId: string | null = null): Buffer {
  const message = {
    ...defaultProduceRequest(),
    transactionalId,
    topicData: topics.map((name) => ({ name, partitionData: [{ index: 0, records: Buffer.alloc(64, 1) }] })),
  };
  return requestFrame(API_KEYS.Produce, version, 7, 'unit', message);
}

describe('request authorizer', () => {
  it('forwards an allowed Produce as the very bytes it came in, at every version', () => {
    const { authorizer: a, h } = authorizer();
    for (const version of [0, 3, 7, 9, 11]) {
      const frame = produceFrame(version, ['orders', 'eu-1'], version >= 3 ? 'tx-1' : null);
      const decision = a.decide(frame, API_KEYS.Produce, version);
      expect(decision).toEqual({ kind: 'forward', frame, edit: undefined });
      expect((decision as { frame: Buffer }).frame).toBe(frame);
    }
    expect(h.logs).toEqual([]);
  });

  it('sends a partly denied Produce the long way: rebuilt without the denied topic, which is logged once', () => {
    const { authorizer: a, h } = authorizer();
    const frame = produceFrame(9, ['orders', 'payments']);
    const decision = a.decide(frame, API_KEYS.Produce, 9);
    expect(decision.kind).toBe('forward');
    const rebuilt = (decision as { frame: Buffer }).frame;
    expect(rebuilt).not.toBe(frame);
    expect(rebuilt.includes(Buffer.from('payments'))).toBe(false);
    expect(rebuilt.includes(Buffer.from('orders'))).toBe(true);
    expect(h.logs.map((l) => l.resourceName)).toEqual(['payments']);
  });

  it('answers a transactional Produce without TransactionalId Write itself', () => {
    const { authorizer: a } = authorizer();
    expect(a.decide(produceFrame(9, ['orders'], 'other-tx'), API_KEYS.Produce, 9).kind).toBe('answer');
  });

  it('in audit mode forwards the original bytes and still logs what enforcement would deny', () => {
    const { authorizer: a, h } = authorizer('audit');
    const frame = produceFrame(9, ['orders', 'payments']);
    expect(a.decide(frame, API_KEYS.Produce, 9)).toEqual({ kind: 'forward', frame, edit: undefined });
    expect(h.logs).toEqual([expect.objectContaining({ msg: 'audit: request would be denied in enforce mode', resourceName: 'payments' })]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fetchRule } from '../../src/authz/api-rules/fetch.js';
import type { Outcome } from '../../src/authz/api-rules/rule.js';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { parsePolicy } from '../../src/authz/policy-file.js';
import { type FetchRequest, defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../../src/protocol/generated/messages/FetchRequest.js';
import type { FetchResponse } from '../../src/protocol/generated/messages/FetchResponse.js';
import { type RuleHarness, ruleHarness } from '../support/rule-harness.js';

const POLICY = `
roles:
  app:
    - { topics: ["orders", "eu-*"], operations: [read] }
`;
/** The same role without eu-* and with secret. */
const CHANGED_POLICY = `
roles:
  app:
    - { topics: ["orders", "secret"], operations: [read] }
`;
const TOPICS = ['orders', 'eu-1', 'secret', 'other'];
const IDS = Object.fromEntries(TOPICS.map((t) => [`ID-${t}`, t]));

const connection = (options: { mode?: 'enforce' | 'audit'; maxSessionPartitions?: number } = {}) => ruleHarness(POLICY, { roles: ['app'], topicIds: IDS, ...options });

/** How a fetch names a topic at `version`. */
function ref(topic: string, version: number): { topic: string; topicId: string } {
  return version >= 13 ? { topic: '', topicId: `ID-${topic}` } : { topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' };
}

function fetch(version: number, sessionId: number, sessionEpoch: number, topics: Record<string, number[]>, forgotten: Record<string, number[]> = {}): FetchRequest {
  return {
    ...defaultFetchRequest(),
    sessionId,
    sessionEpoch,
    topics: Object.entries(topics).map(([t, ps]) => ({
      ...defaultFetchRequestFetchTopic(),
      ...ref(t, version),
      partitions: ps.map((partition) => ({ ...defaultFetchRequestFetchPartition(), partition })),
    })),
    forgottenTopicsData: Object.entries(forgotten).map(([t, partitions]) => ({ ...ref(t, version), partitions })),
  };
}

/** What reaches the broker: the original request, the rebuilt one, or nothing. */
function sent(req: FetchRequest, out: Outcome<FetchResponse>): FetchRequest | undefined {
  if (out.action === 'answer') return undefined;
  return out.action === 'rebuild' ? (out.request as FetchRequest) : req;
}

function leadingErrors(out: Outcome<FetchResponse>): string[] {
  if (out.action === 'answer') return [];
  const leading = (out.leading ?? []) as FetchResponse['responses'];
  return leading.flatMap((t) => t.partitions.map((p) => `${t.topic || t.topicId}/${p.partitionIndex}:${p.errorCode}`));
}

function answerCode(out: Outcome<FetchResponse>): number | undefined {
  return out.action === 'answer' ? out.response.errorCode : undefined;
}

/** Opens a session the broker numbers `id`; returns the outcome of the opening fetch. */
function open(conn: RuleHarness, version: number, id: number, topics: Record<string, number[]>): Outcome<FetchResponse> {
  const out = fetchRule.authorize(fetch(version, 0, 0, topics), conn.ctx(version));
  if (out.action === 'answer') throw new Error('the opening fetch was answered by the proxy');
  out.sessionOpened!(id);
  return out;
}

describe('Fetch sessions (KIP-227) on enforcing listeners', () => {
  for (const version of [12, 13]) {
    it(`v${version}: lets incremental fetches of the session this connection opened through, at the epoch the broker expects`, () => {
      const conn = connection();
      open(conn, version, 55, { orders: [0, 1] });
      expect(conn.fetchSession.current).toMatchObject({ id: 55, nextEpoch: 1 });
      const nothingChanged = fetch(version, 55, 1, {});
      expect(fetchRule.authorize(nothingChanged, conn.ctx(version))).toMatchObject({ action: 'forward', leading: undefined });
      const adds = fetch(version, 55, 2, { 'eu-1': [0] }, { orders: [1] });
      expect(fetchRule.authorize(adds, conn.ctx(version))).toMatchObject({ action: 'forward', leading: undefined });
      expect(conn.fetchSession.current!.partitionCount).toBe(2);
      // A replayed epoch is refused as the broker refuses it, and changes nothing.
      expect(answerCode(fetchRule.authorize(fetch(version, 55, 2, {}), conn.ctx(version)))).toBe(71);
      expect(answerCode(fetchRule.authorize(fetch(version, 56, 3, {}), conn.ctx(version)))).toBe(70);
      expect(fetchRule.authorize(fetch(version, 55, 3, {}), conn.ctx(version)).action).toBe('forward');
    });

    it(`v${version}: keeps a denied topic out of the session and answers it with 29 on every fetch of the session until it is forgotten`, () => {
      const conn = connection();
      const opening = open(conn, version, 7, { orders: [0], secret: [2] });
      expect(opening.action).toBe('rebuild');
      expect(sent(fetch(version, 0, 0, {}), opening)!.topics).toHaveLength(1);
      const name = version >= 13 ? 'ID-secret' : 'secret';
      expect(leadingErrors(opening)).toEqual([`${name}/2:29`]);
      const again = fetchRule.authorize(fetch(version, 7, 1, {}), conn.ctx(version));
      expect(again).toMatchObject({ action: 'forward' });
      expect(leadingErrors(again)).toEqual([`${name}/2:29`]);
      const adds = fetch(version, 7, 2, { secret: [5], other: [0], orders: [1] });
      const out = fetchRule.authorize(adds, conn.ctx(version));
      expect(sent(adds, out)!.topics.map((t) => t.topic || t.topicId)).toEqual([version >= 13 ? 'ID-orders' : 'orders']);
      expect(leadingErrors(out).sort()).toEqual([`${name}/2:29`, `${name}/5:29`, `${version >= 13 ? 'ID-other' : 'other'}/0:29`].sort());
      const forgets = fetchRule.authorize(fetch(version, 7, 3, {}, { secret: [2, 5], other: [0] }), conn.ctx(version));
      expect(forgets).toMatchObject({ action: 'forward', leading: undefined });
      // Denials are logged when a request names the topic, not for the errors repeated on every fetch.
      expect(conn.logs.flatMap((l) => (l.resources as { resourceName: string }[]).map((r) => r.resourceName))).toEqual(['secret', 'other']);
    });
  }

  it('never lets a connection use a session it did not open, nor close one', () => {
    const owner = connection();
    open(owner, 12, 99, { orders: [0] });
    const intruder = connection();
    expect(answerCode(fetchRule.authorize(fetch(12, 99, 1, {}), intruder.ctx(12)))).toBe(70);
    for (const epoch of [0, -1]) {
      const closing = fetch(12, 99, epoch, { orders: [0] });
      expect(sent(closing, fetchRule.authorize(closing, intruder.ctx(12)))).toMatchObject({ sessionId: 0, sessionEpoch: epoch });
    }
    // Its own session the client may close: the request goes as it came.
    const close = fetch(12, 99, -1, { orders: [0] });
    expect(fetchRule.authorize(close, owner.ctx(12)).action).toBe('forward');
    expect(owner.fetchSession.current).toBeUndefined();
  });

  it('refuses an incremental fetch sent before the answer that opened the session, and one that switches between names and ids', () => {
    const conn = connection();
    const opening = fetchRule.authorize(fetch(12, 0, 0, { orders: [0] }), conn.ctx(12));
    expect(answerCode(fetchRule.authorize(fetch(12, 31, 1, {}), conn.ctx(12)))).toBe(70);
    if (opening.action === 'answer') throw new Error('unexpected answer');
    opening.sessionOpened!(31);
    expect(answerCode(fetchRule.authorize(fetch(13, 31, 1, {}), conn.ctx(13)))).toBe(106);
    // No session opened (a broker whose session cache is full answers id 0): nothing to use.
    const noSession = fetchRule.authorize(fetch(12, 0, 0, { orders: [0] }), conn.ctx(12));
    if (noSession.action === 'answer') throw new Error('unexpected answer');
    noSession.sessionOpened!(0);
    expect(conn.fetchSession.current).toBeUndefined();
  });

  it('sends the client back to a full fetch when a policy reload, a new principal or a mode switch decides a session topic otherwise, and not when it does not', () => {
    const conn = connection();
    open(conn, 12, 5, { orders: [0], 'eu-1': [0] });
    conn.access.update(compilePolicy(parsePolicy(POLICY.replace('read]', 'read, write]'), 'policy.yaml')));
    expect(fetchRule.authorize(fetch(12, 5, 1, {}), conn.ctx(12)).action).toBe('forward');
    conn.access.update(compilePolicy(parsePolicy(CHANGED_POLICY, 'policy.yaml')));
    expect(answerCode(fetchRule.authorize(fetch(12, 5, 2, {}), conn.ctx(12)))).toBe(70);
    expect(conn.fetchSession.current).toBeUndefined();

    const audited = connection({ mode: 'audit' });
    open(audited, 12, 6, { orders: [0], secret: [0] });
    expect(fetchRule.authorize(fetch(12, 6, 1, {}), audited.ctx(12)).action).toBe('forward');
    audited.access.mode = 'enforce';
    expect(answerCode(fetchRule.authorize(fetch(12, 6, 2, {}), audited.ctx(12)))).toBe(70);

    const reauthenticated = connection();
    open(reauthenticated, 12, 8, { orders: [0] });
    reauthenticated.access.update(compilePolicy(parsePolicy(POLICY, 'policy.yaml')), 'mallory', []);
    expect(answerCode(fetchRule.authorize(fetch(12, 8, 1, {}), reauthenticated.ctx(12)))).toBe(70);
  });

  it('sends the client back to a full fetch when a topic id it could not name joined the session and the proxy has learned its name since', () => {
    const conn = connection();
    open(conn, 13, 9, { orders: [0] });
    const unknown = { ...fetch(13, 9, 1, {}), topics: [{ ...defaultFetchRequestFetchTopic(), topicId: 'ID-new', partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0 }] }] };
    const out = fetchRule.authorize(unknown, conn.ctx(13));
    expect(leadingErrors(out)).toEqual(['ID-new/0:100']);
    conn.topicIds.set('ID-new', 'eu-new');
    expect(answerCode(fetchRule.authorize({ ...unknown, sessionEpoch: 2 }, conn.ctx(13)))).toBe(70);
  });

  it('ends the session once it holds more partitions than one request may name', () => {
    const conn = connection({ maxSessionPartitions: 3 });
    open(conn, 12, 4, { orders: [0, 1] });
    expect(fetchRule.authorize(fetch(12, 4, 1, { orders: [2] }), conn.ctx(12)).action).toBe('forward');
    expect(answerCode(fetchRule.authorize(fetch(12, 4, 2, { 'eu-1': [0] }), conn.ctx(12)))).toBe(70);
    expect(conn.fetchSession.current).toBeUndefined();
  });

  it('forgets the session when the broker closes it for having no partition left', () => {
    const conn = connection();
    open(conn, 12, 3, { orders: [0], secret: [1] });
    expect(fetchRule.authorize(fetch(12, 3, 1, {}, { orders: [0] }), conn.ctx(12)).action).toBe('forward');
    expect(conn.fetchSession.current).toBeUndefined();
  });

  it('has no sessions before v7', () => {
    const conn = connection();
    expect(fetchRule.authorize({ ...fetch(6, 0, 0, { orders: [0] }) }, conn.ctx(6))).toMatchObject({ action: 'forward', sessionOpened: undefined });
  });
});

/**
 * A broker's fetch session cache as Kafka's FetchManager keeps it: sessions by id (not by
 * connection), an epoch check, updates applied in order, a session closed when emptied. Returns
 * the partitions each fetch reads from.
 */
class ModelBroker {
  private readonly sessions = new Map<number, { epoch: number; byId: boolean; partitions: Set<string> }>();
  private nextId = 1;

  /** The broker's answer: its top-level error, the session id it names, and the partitions it read. */
  handle(req: FetchRequest, version: number): { errorCode: number; sessionId: number; read: string[] } {
    const byId = version >= 13;
    const key = (t: { topic: string; topicId: string }, p: number) => `${byId ? IDS[t.topicId] : t.topic}/${p}`;
    const named = req.topics.flatMap((t) => t.partitions.map((p) => key(t, p.partition)));
    if (req.sessionEpoch === 0 || req.sessionEpoch === -1) {
      if (req.sessionId !== 0) this.sessions.delete(req.sessionId);
      if (req.sessionEpoch === -1) return { errorCode: 0, sessionId: 0, read: named };
      const id = this.nextId++;
      this.sessions.set(id, { epoch: 1, byId, partitions: new Set(named) });
      return { errorCode: 0, sessionId: id, read: named };
    }
    const session = this.sessions.get(req.sessionId);
    if (!session) return { errorCode: 70, sessionId: 0, read: [] };
    if (session.epoch !== req.sessionEpoch) return { errorCode: 71, sessionId: 0, read: [] };
    if (session.byId !== byId) return { errorCode: 106, sessionId: 0, read: [] };
    for (const k of named) session.partitions.add(k);
    for (const f of req.forgottenTopicsData) for (const p of f.partitions) session.partitions.delete(key(f, p));
    if (session.partitions.size === 0) {
      this.sessions.delete(req.sessionId);
      return { errorCode: 0, sessionId: 0, read: [] };
    }
    session.epoch = session.epoch === 0x7fffffff ? 1 : session.epoch + 1;
    return { errorCode: 0, sessionId: req.sessionId, read: [...session.partitions] };
  }

  ids(): number[] {
    return [...this.sessions.keys()];
  }
}

type Step =
  | { kind: 'fetch'; conn: number; session: 'own' | 'guess' | 'none'; guess: number; epoch: 'next' | 'zero' | 'final' | 'stale'; adds: [string, number][]; forgets: [string, number][] }
  | { kind: 'deliver'; conn: number }
  | { kind: 'policy'; conn: number; changed: boolean }
  | { kind: 'mode'; conn: number; audit: boolean };

const partitionArb = fc.tuple(fc.constantFrom(...TOPICS), fc.integer({ min: 0, max: 2 }));
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('fetch' as const),
      conn: fc.integer({ min: 0, max: 1 }),
      session: fc.constantFrom('own' as const, 'own' as const, 'guess' as const, 'none' as const),
      guess: fc.integer({ min: 1, max: 6 }),
      epoch: fc.constantFrom('next' as const, 'next' as const, 'next' as const, 'zero' as const, 'final' as const, 'stale' as const),
      adds: fc.array(partitionArb, { maxLength: 4 }),
      forgets: fc.array(partitionArb, { maxLength: 3 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), conn: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('policy' as const), conn: fc.integer({ min: 0, max: 1 }), changed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mode' as const), conn: fc.integer({ min: 0, max: 1 }), audit: fc.boolean() }) },
);

function group(pairs: [string, number][]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [t, p] of pairs) (out[t] ??= []).includes(p) || out[t].push(p);
  return out;
}

describe('Fetch sessions under hostile request mixes', () => {
  it('never lets the broker read a partition the requester may not read, whatever two connections pipeline, guess, replay or forget across reloads and mode switches', () => {
    const policies = { base: compilePolicy(parsePolicy(POLICY, 'policy.yaml')), changed: compilePolicy(parsePolicy(CHANGED_POLICY, 'policy.yaml')) };
    fc.assert(
      fc.property(fc.constantFrom(12, 13), fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }), (version, steps) => {
        const broker = new ModelBroker();
        // Two tenants: what one may read the other may not, so a session used across them would show.
        const conns = [policies.base, policies.changed].map((policy) => ({
          harness: connection(),
          policy,
          /** Answers the broker gave but the proxy has not read yet, in order. */
          pending: [] as (() => void)[],
          /** The epoch a well-behaved client would send next, as it learned from answers. */
          clientSession: { id: 0, epoch: 0 },
        }));
        conns[1].harness.access.update(policies.changed);
        for (const step of steps) {
          const conn = conns[step.conn];
          if (step.kind === 'deliver') {
            conn.pending.shift()?.();
            continue;
          }
          if (step.kind === 'policy') {
            conn.policy = step.changed === (step.conn === 0) ? policies.changed : policies.base;
            conn.harness.access.update(conn.policy);
            continue;
          }
          if (step.kind === 'mode') {
            conn.harness.access.mode = step.audit ? 'audit' : 'enforce';
            continue;
          }
          const id = step.session === 'own' ? conn.clientSession.id : step.session === 'guess' ? (broker.ids()[step.guess % Math.max(1, broker.ids().length)] ?? step.guess) : 0;
          const epoch = { next: conn.clientSession.epoch || 1, zero: 0, final: -1, stale: Math.max(1, conn.clientSession.epoch - 1) }[step.epoch];
          const req = fetch(version, id, epoch, group(step.adds), group(step.forgets));
          const out = fetchRule.authorize(req, conn.harness.ctx(version));
          const forwarded = sent(req, out);
          if (!forwarded || out.action === 'answer') continue;
          const answer = broker.handle(forwarded, version);
          // A client need not wait for answers to know the next epoch.
          if (epoch > 0 && id === conn.clientSession.id) conn.clientSession.epoch = epoch + 1;
          if (conn.harness.access.mode === 'enforce') {
            for (const read of answer.read) {
              const topic = read.split('/')[0];
              expect(policies.base === conn.policy ? ['orders', 'eu-1'] : ['orders', 'secret'], `read ${read}`).toContain(topic);
            }
          }
          conn.pending.push(() => {
            out.sessionOpened?.(answer.errorCode === 0 ? answer.sessionId : 0);
            if (answer.sessionId !== 0 && epoch <= 0) conn.clientSession = { id: answer.sessionId, epoch: 1 };
          });
        }
      }),
      {
        numRuns: 600,
        examples: [
          // A forget sent at a stale epoch, which the broker refuses, must not shrink what the proxy checks after a reload.
          [
            12,
            [
              { kind: 'fetch', conn: 0, session: 'none', guess: 1, epoch: 'zero', adds: [['eu-1', 0], ['orders', 0]], forgets: [] },
              { kind: 'deliver', conn: 0 },
              { kind: 'fetch', conn: 0, session: 'own', guess: 1, epoch: 'next', adds: [], forgets: [] },
              { kind: 'fetch', conn: 0, session: 'own', guess: 1, epoch: 'stale', adds: [], forgets: [['eu-1', 0]] },
              { kind: 'policy', conn: 0, changed: true },
              { kind: 'fetch', conn: 0, session: 'own', guess: 1, epoch: 'next', adds: [], forgets: [] },
            ],
          ],
        ],
      },
    );
  });
});

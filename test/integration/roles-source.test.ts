import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import type { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { RolesService } from '../support/roles-service.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, type TestProxyOptions, startTestProxy } from './helpers/proxy.js';
import { authenticatedConnection } from './helpers/raw-sasl.js';
import { createTopic } from './helpers/topics.js';

const run = randomUUID().slice(0, 8);
const TOPIC = `roles-${run}`;
/** The service's role that lets a principal see the topic; tokens carry no roles at all. */
const POLICY = `
roles:
  topic-reader:
    - { topics: ["${TOPIC}"], operations: [describe] }
`;

async function topicError(conn: KafkaConnection): Promise<number> {
  const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name: TOPIC }] });
  return md.body.topics[0].errorCode;
}

describe('roles from a permissions service', () => {
  const service = new RolesService();
  const dir = mkdtempSync(join(tmpdir(), 'kap-roles-'));
  let issuer: DevIssuer;
  const proxies: TestProxy[] = [];
  const connections: KafkaConnection[] = [];

  const token = (subject: string) => issuer.mint({ subject, roles: [] });
  const connect = async (tp: TestProxy, subject: string) => {
    const conn = await authenticatedConnection(tp.bootstrapPort, await token(subject));
    connections.push(conn);
    return conn;
  };
  const proxy = async (extra: Partial<TestProxyOptions> = {}, rolesSource: Record<string, unknown> = {}) => {
    const tp = await startTestProxy(
      oauthListener(issuer, { policy: POLICY, ...extra, rolesSource: { url: service.url, timeoutMs: 500, ttlSeconds: 2, ...rolesSource } as TestProxyOptions['rolesSource'] }),
    );
    proxies.push(tp);
    return tp;
  };

  beforeAll(async () => {
    await createTopic({ topic: TOPIC, numPartitions: 1, replicationFactor: 3 });
    issuer = await startTestIssuer();
    await service.start();
  });

  afterAll(async () => {
    for (const c of connections) c.close();
    for (const tp of proxies) await tp.stop();
    await service.stop();
    await issuer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("allows what the service's roles grant and denies the rest; a changed entitlement reaches live connections within the TTL", async () => {
    service.fault = 'none';
    service.roles.set(`alice-${run}`, ['topic-reader']);
    const tp = await proxy();
    const alice = await connect(tp, `alice-${run}`);
    const bob = await connect(tp, `bob-${run}`);
    expect(await topicError(alice)).toBe(0);
    expect(await topicError(bob)).toBe(29);
    service.roles.delete(`alice-${run}`);
    service.roles.set(`bob-${run}`, ['topic-reader']);
    // The TTL is 2 s; a refresh starts in its last 10-30% and its answer applies from the next request.
    await expect.poll(async () => [await topicError(alice), await topicError(bob)], { timeout: 6_000, interval: 200 }).toEqual([29, 0]);
  });

  describe('while the service fails, each listener does as its rolesOffline says', () => {
    const cases: [NonNullable<TestProxyOptions['rolesOffline']>, number, string][] = [
      ['last-known', 0, 'the last roles it gave'],
      ['deny', 29, 'no roles from it'],
      ['audit', 0, 'decided as deny, forwarded, and logged'],
      ['allow-all', 0, 'everything let through'],
    ];
    for (const fault of ['error-500', 'slow', 'malformed'] as const) {
      it(`${fault}: last-known keeps serving, deny denies, audit and allow-all forward`, async () => {
        service.fault = 'none';
        const subject = `carol-${fault}-${run}`;
        service.roles.set(subject, []);
        const sessions = [];
        for (const [rolesOffline] of cases) {
          const tp = await proxy({ rolesOffline }, { ttlSeconds: 1 });
          service.roles.set(subject, ['topic-reader']);
          const conn = await connect(tp, subject);
          expect(await topicError(conn)).toBe(0);
          sessions.push({ tp, conn });
        }
        service.fault = fault;
        // Past the TTL, with the refresh failing.
        await new Promise((r) => setTimeout(r, 1_500));
        for (let i = 0; i < cases.length; i++) {
          const [rolesOffline, expected] = cases[i];
          const { tp, conn } = sessions[i];
          await expect.poll(() => topicError(conn), { timeout: 5_000, interval: 200, message: rolesOffline }).toBe(expected);
          if (rolesOffline === 'audit') {
            expect(tp.logs.some((l) => l.msg === 'no fresh roles from the roles source; the session follows rolesOffline' && l.rolesOffline === 'audit')).toBe(true);
            expect(tp.logs.some((l) => l.msg === 'audit: request would be denied in enforce mode' && l.principal === subject)).toBe(true);
          }
        }
        service.fault = 'none';
      });
    }
  });

  it('a proxy that starts while the service is down serves last-known roles from the snapshot another left', async () => {
    service.fault = 'none';
    const subject = `dave-${run}`;
    service.roles.set(subject, ['topic-reader']);
    const snapshot = { file: join(dir, 'roles-snapshot.json'), intervalSeconds: 60 };
    const first = await proxy({}, { snapshot });
    expect(await topicError(await connect(first, subject))).toBe(0);
    await first.stop();
    proxies.splice(proxies.indexOf(first), 1);
    await service.stop();
    // Roles younger than the TTL are fresh wherever they come from: these are last-known only after it.
    await new Promise((r) => setTimeout(r, 2_100));
    try {
      const second = await proxy({ rolesOffline: 'last-known' }, { snapshot });
      expect(await topicError(await connect(second, subject))).toBe(0);
      const denied = await proxy({ rolesOffline: 'deny' }, { snapshot });
      expect(await topicError(await connect(denied, subject))).toBe(29);
    } finally {
      await service.start();
    }
  });

  it('a new session waits for the service at most timeoutMs, also behind a queue of other principals', async () => {
    const tp = await proxy(
      { rolesOffline: 'deny', listenerLimits: { maxNewConnectionsPerSecondPerIp: 10_000, maxUnauthenticatedConnectionsPerIp: 2_000 } },
      { timeoutMs: 300, maxConcurrentRequests: 1, breaker: { minimumRequests: 1_000 } },
    );
    service.fault = 'slow';
    try {
      const principals = Array.from({ length: 50 }, (_, i) => `queued-${i}-${run}`);
      const started = Date.now();
      // One request at a time, each timing out after 300 ms: 15 s if each session waited its turn.
      const errors = await Promise.all(principals.map(async (p) => topicError(await connect(tp, p))));
      expect(errors).toEqual(Array(50).fill(29));
      expect(Date.now() - started).toBeLessThan(7_500);
    } finally {
      service.fault = 'none';
    }
  });

  it('a reconnect storm of 1,000 connections from 100 principals asks the service once per principal', async () => {
    service.fault = 'none';
    const principals = Array.from({ length: 100 }, (_, i) => `storm-${i}-${run}`);
    for (const p of principals) service.roles.set(p, ['topic-reader']);
    // Far above the per-IP defaults, which would refuse a storm from one address.
    const tp = await proxy({ listenerLimits: { maxNewConnectionsPerSecondPerIp: 10_000, maxUnauthenticatedConnectionsPerIp: 2_000, maxConnectionsPerIp: 5_000 } }, { ttlSeconds: 300 });
    const before = new Map(principals.map((p) => [p, service.requests.get(p) ?? 0]));
    const tokens = await Promise.all(principals.map(token));
    const storm = [];
    for (let round = 0; round < 10; round++) for (let i = 0; i < principals.length; i++) storm.push(authenticatedConnection(tp.bootstrapPort, tokens[i]));
    const conns = await Promise.all(storm);
    connections.push(...conns);
    const errors = await Promise.all(conns.slice(0, 100).map(topicError));
    expect(errors.every((e) => e === 0)).toBe(true);
    expect(principals.map((p) => (service.requests.get(p) ?? 0) - before.get(p)!)).toEqual(Array(100).fill(1));
  });
});

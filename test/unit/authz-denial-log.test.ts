import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { DenialLog, type EnforcementMode, type Requester } from '../../src/authz/denial-log.js';
import type { Operation, ResourceKind } from '../../src/authz/operations.js';
import { parsePolicy } from '../../src/authz/policy-file.js';
import { RequestDenials } from '../../src/authz/request-denials.js';
import { SessionAccess } from '../../src/authz/session-access.js';
import { createLogger } from '../../src/observe/logger.js';
import { ProxyMetrics } from '../../src/observe/metrics.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('info', sink) };
}

const who: Requester = { listener: 'secure', principal: 'svc-a', clientAddress: '10.0.0.1:5000', clientId: 'producer-1' };

/** One request's denials: `names` denied for `operation` on `kind`. */
function denialsOf(names: string[], kind: ResourceKind = 'topic', operation: Operation = 'write', mode: EnforcementMode = 'enforce'): RequestDenials {
  const d = new RequestDenials(mode);
  for (const name of names) d.add(kind, name, operation, mode);
  return d;
}

const POLICY = `
roles:
  app:
    - { topics: ["orders"], operations: [write] }
`;

function session(mode: EnforcementMode, log: ReturnType<typeof capture>['log'], metrics?: ProxyMetrics) {
  const policy = compilePolicy(parsePolicy(POLICY, 'policy.yaml'));
  return new SessionAccess(mode, { ...who, roles: ['app'] }, policy, new DenialLog(log, metrics));
}

describe('denial log', () => {
  it("logs a request's denials as one line with everything an operator needs, and counts every entity", async () => {
    const { lines, log } = capture();
    const metrics = new ProxyMetrics();
    const denials = denialsOf(['payments', 'refunds']);
    denials.add('group', 'billing', 'read', 'enforce');
    new DenialLog(log, metrics).record(who, 'Produce', denials, 10_000);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'authorization denied',
        listener: 'secure',
        mode: 'enforce',
        principal: 'svc-a',
        clientAddress: '10.0.0.1:5000',
        clientId: 'producer-1',
        api: 'Produce',
        denials: 3,
        operations: { 'topic:write': 2, 'group:read': 1 },
        resources: [
          { resourceType: 'topic', resourceName: 'payments', operation: 'write' },
          { resourceType: 'topic', resourceName: 'refunds', operation: 'write' },
          { resourceType: 'group', resourceName: 'billing', operation: 'read' },
        ],
      }),
    ]);
    const counted = await metrics.registry.getSingleMetricAsString('kafka_proxy_authorization_denials_total');
    expect(counted).toContain('kafka_proxy_authorization_denials_total{listener="secure",api="Produce",resource="topic",mode="enforce"} 2');
    expect(counted).toContain('kafka_proxy_authorization_denials_total{listener="secure",api="Produce",resource="group",mode="enforce"} 1');
  });

  it('writes one line for a request naming 40,000 made-up topics, quoting the first few with long names cut', async () => {
    const { lines, log } = capture();
    const metrics = new ProxyMetrics();
    const names = Array.from({ length: 40_000 }, (_, i) => (i === 0 ? 'x'.repeat(100_000) : `made-up-${i}`));
    new DenialLog(log, metrics).record(who, 'Metadata', denialsOf(names, 'topic', 'describe'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ denials: 40_000, operations: { 'topic:describe': 40_000 } });
    expect((lines[0].resources as { resourceName: string }[]).map((r) => r.resourceName)).toEqual([
      `${'x'.repeat(255)}... (100000 characters)`,
      'made-up-1',
      'made-up-2',
      'made-up-3',
      'made-up-4',
    ]);
    expect(await metrics.registry.getSingleMetricAsString('kafka_proxy_authorization_denials_total')).toContain(
      'kafka_proxy_authorization_denials_total{listener="secure",api="Metadata",resource="topic",mode="enforce"} 40000',
    );
  });

  it('logs a retried request once per window, and the next line says how many repeats were left out', () => {
    const { lines, log } = capture();
    const denials = new DenialLog(log, undefined, { windowMs: 1000 });
    for (let i = 0; i < 50; i++) denials.record(who, 'Produce', denialsOf(['payments']), 10_000 + i);
    expect(lines).toHaveLength(1);
    denials.record(who, 'Produce', denialsOf(['payments']), 11_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ resources: [expect.objectContaining({ resourceName: 'payments' })], repeatsNotLogged: 49 });
  });

  it('still logs another request, principal or API within the window', () => {
    const { lines, log } = capture();
    const denials = new DenialLog(log, undefined);
    denials.record(who, 'Produce', denialsOf(['payments']), 0);
    denials.record(who, 'Produce', denialsOf(['refunds']), 1);
    denials.record({ ...who, principal: 'svc-b' }, 'Produce', denialsOf(['payments']), 2);
    denials.record(who, 'Fetch', denialsOf(['payments'], 'topic', 'read'), 3);
    denials.record(who, 'Produce', denialsOf(['payments']), 4);
    expect(lines.map((l) => `${l.principal as string}/${l.api as string}/${(l.resources as { resourceName: string }[])[0].resourceName}`)).toEqual([
      'svc-a/Produce/payments',
      'svc-a/Produce/refunds',
      'svc-b/Produce/payments',
      'svc-a/Fetch/payments',
    ]);
  });

  it('words audit-mode lines as would-be denials', () => {
    const { lines, log } = capture();
    new DenialLog(log, undefined).record(who, 'Produce', denialsOf(['payments'], 'topic', 'write', 'audit'));
    expect(lines[0]).toMatchObject({ level: 'warn', mode: 'audit', msg: 'audit: request would be denied in enforce mode' });
  });

  it('keeps audit and enforce lines apart, so a dry run on one listener hides nothing on another', () => {
    const { lines, log } = capture();
    const denials = new DenialLog(log, undefined);
    denials.record({ ...who, listener: 'legacy' }, 'Produce', denialsOf(['payments'], 'topic', 'write', 'audit'), 0);
    denials.record(who, 'Produce', denialsOf(['payments']), 1);
    expect(lines.map((l) => l.listener)).toEqual(['legacy', 'secure']);
  });

  it('writes at most maxLinesPerSecond lines for the whole proxy, counts the rest, and says so on the next line', async () => {
    const { lines, log } = capture();
    const metrics = new ProxyMetrics();
    const denials = new DenialLog(log, metrics, { maxLinesPerSecond: 3 });
    for (let i = 0; i < 10; i++) denials.record({ ...who, principal: `svc-${i}` }, 'Produce', denialsOf([`t-${i}`]), 5_000 + i);
    expect(lines.map((l) => l.principal)).toEqual(['svc-0', 'svc-1', 'svc-2']);
    expect(await metrics.registry.getSingleMetricAsString('kafka_proxy_denial_log_lines_suppressed_total')).toContain(
      'kafka_proxy_denial_log_lines_suppressed_total{listener="secure"} 7',
    );
    denials.tooManyEntities(who, 'Metadata', 200_000, 100_000, 'connection closed', 6_000);
    expect(lines[3]).toMatchObject({ level: 'warn', api: 'Metadata', entities: 200_000, limit: 100_000, answer: 'connection closed', linesSuppressed: 7 });
    denials.record({ ...who, principal: 'svc-next' }, 'Produce', denialsOf(['t']), 6_001);
    expect(lines[4]).not.toHaveProperty('linesSuppressed');
  });
});

describe('session access', () => {
  it('gathers the denials of one request into one line, logged when the request ends', () => {
    const { lines, log } = capture();
    const access = session('enforce', log);
    access.beginRequest('Produce');
    expect(access.check('topic', 'orders', 'write')).toBe(true);
    for (let i = 0; i < 1000; i++) expect(access.check('topic', `denied-${i}`, 'write')).toBe(false);
    expect(lines).toEqual([]);
    access.endRequest();
    expect(lines).toEqual([expect.objectContaining({ msg: 'authorization denied', api: 'Produce', denials: 1000, principal: 'svc-a' })]);
    access.beginRequest('Produce');
    access.endRequest();
    expect(lines).toHaveLength(1);
  });

  it('in audit mode lets every entity through and logs them as would-be denials; a broker-only request is refused all the same', () => {
    const { lines, log } = capture();
    const access = session('audit', log);
    access.beginRequest('Produce');
    expect(access.check('topic', 'payments', 'write')).toBe(true);
    access.endRequest();
    access.beginRequest('Fetch');
    access.refuse('cluster', 'kafka-cluster', 'cluster-action');
    access.endRequest();
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'audit: request would be denied in enforce mode', mode: 'audit', api: 'Produce', denials: 1 }),
      expect.objectContaining({ msg: 'authorization denied', mode: 'enforce', api: 'Fetch', operations: { 'cluster:cluster-action': 1 } }),
    ]);
  });
});

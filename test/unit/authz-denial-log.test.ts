import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type Denial, DenialLog } from '../../src/authz/denial-log.js';
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

const denial: Denial = {
  listener: 'secure',
  mode: 'enforce',
  principal: 'svc-a',
  clientAddress: '10.0.0.1:5000',
  clientId: 'producer-1',
  api: 'Produce',
  kind: 'topic',
  name: 'payments',
  operation: 'write',
};

describe('denial log', () => {
  it('logs a denial once per window with everything an operator needs, and counts every one', async () => {
    const { lines, log } = capture();
    const metrics = new ProxyMetrics();
    const denials = new DenialLog(log, metrics, { windowMs: 1000 });
    for (let i = 0; i < 50; i++) denials.record(denial, 10_000 + i);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'authorization denied',
        listener: 'secure',
        principal: 'svc-a',
        clientAddress: '10.0.0.1:5000',
        clientId: 'producer-1',
        api: 'Produce',
        resourceType: 'topic',
        resourceName: 'payments',
        operation: 'write',
      }),
    ]);
    expect(await metrics.registry.getSingleMetricAsString('kafka_proxy_authorization_denials_total')).toContain(
      'kafka_proxy_authorization_denials_total{listener="secure",api="Produce",resource="topic",mode="enforce"} 50',
    );
    denials.record(denial, 11_000);
    expect(lines[1]).toMatchObject({ resourceName: 'payments', repeatsNotLogged: 49 });
  });

  it('rate-limits per principal and resource, so another resource or principal is still logged', () => {
    const { lines, log } = capture();
    const denials = new DenialLog(log, undefined);
    denials.record(denial, 0);
    denials.record({ ...denial, name: 'refunds' }, 1);
    denials.record({ ...denial, principal: 'svc-b' }, 2);
    denials.record(denial, 3);
    expect(lines.map((l) => `${l.principal as string}/${l.resourceName as string}`)).toEqual(['svc-a/payments', 'svc-a/refunds', 'svc-b/payments']);
  });

  it('words audit-mode lines as would-be denials', () => {
    const { lines, log } = capture();
    new DenialLog(log, undefined).record({ ...denial, mode: 'audit' });
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'audit: request would be denied in enforce mode' });
  });

  it('cuts names no Kafka resource can have, in the line and in what it remembers', () => {
    const { lines, log } = capture();
    const denials = new DenialLog(log, undefined);
    denials.record({ ...denial, name: 'x'.repeat(100_000) });
    expect(lines[0].resourceName).toBe(`${'x'.repeat(255)}... (100000 characters)`);
  });

  it('keeps audit and enforce lines apart, so a dry run on one listener hides nothing on another', () => {
    const { lines, log } = capture();
    const denials = new DenialLog(log, undefined);
    denials.record({ ...denial, listener: 'legacy', mode: 'audit' }, 0);
    denials.record(denial, 1);
    expect(lines.map((l) => l.listener)).toEqual(['legacy', 'secure']);
  });
});

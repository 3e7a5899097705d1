import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { ProxyMetrics } from '../../src/observe/metrics.js';
import { type Admission, type AcceptLimit, ConnectionLimits } from '../../src/proxy/connection-limits.js';
import { ConnectionRefusals } from '../../src/proxy/connection-refusals.js';
import { NewConnectionRate } from '../../src/proxy/new-connection-rate.js';
import { PreAuthBytesBudget } from '../../src/proxy/preauth-bytes.js';

/** A clock the test moves by hand. */
function manualClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const roomy = { maxConnections: 1000, maxUnauthenticatedConnections: 1000, maxConnectionsPerIp: 1000, maxNewConnectionsPerSecondPerIp: 1000 };

function admitted(result: Admission | AcceptLimit): Admission {
  if (typeof result === 'string') throw new Error(`refused: ${result}`);
  return result;
}

describe('NewConnectionRate', () => {
  it('lets an IP open a burst of perSecond connections, then perSecond a second', () => {
    const clock = manualClock();
    const rate = new NewConnectionRate(5, clock.now);
    const burst = Array.from({ length: 8 }, () => rate.take('10.0.0.1'));
    expect(burst).toEqual([true, true, true, true, true, false, false, false]);
    clock.advance(200);
    expect([rate.take('10.0.0.1'), rate.take('10.0.0.1')]).toEqual([true, false]);
    clock.advance(10_000);
    expect(Array.from({ length: 6 }, () => rate.take('10.0.0.1')).filter(Boolean)).toHaveLength(5);
  });

  it('keeps each IP to its own allowance', () => {
    const rate = new NewConnectionRate(1, manualClock().now);
    expect(rate.take('10.0.0.1')).toBe(true);
    expect(rate.take('10.0.0.1')).toBe(false);
    expect(rate.take('10.0.0.2')).toBe(true);
  });

  it('tracks a bounded number of IPs however many connect', () => {
    const rate = new NewConnectionRate(1, manualClock().now, 100);
    for (let i = 0; i < 5000; i++) rate.take(`10.0.${i >> 8}.${i & 255}`);
    expect(rate.trackedIps).toBe(100);
  });
});

describe('ConnectionLimits', () => {
  it('refuses past maxConnections and admits again once one closes', () => {
    const limits = new ConnectionLimits({ ...roomy, maxConnections: 2 });
    const first = admitted(limits.admit('10.0.0.1', 'authenticated'));
    admitted(limits.admit('10.0.0.2', 'authenticated'));
    expect(limits.admit('10.0.0.3', 'authenticated')).toBe('max-connections');
    first.closed();
    first.closed();
    expect(limits.openConnections).toBe(1);
    admitted(limits.admit('10.0.0.3', 'authenticated'));
  });

  it('limits connections still authenticating, not authenticated ones', () => {
    const limits = new ConnectionLimits({ ...roomy, maxUnauthenticatedConnections: 1 });
    const pending = admitted(limits.admit('10.0.0.1', 'unauthenticated'));
    expect(limits.admit('10.0.0.2', 'unauthenticated')).toBe('max-unauthenticated');
    admitted(limits.admit('10.0.0.2', 'authenticated'));
    pending.authenticated();
    pending.authenticated();
    expect(limits.unauthenticatedConnections).toBe(0);
    admitted(limits.admit('10.0.0.3', 'unauthenticated'));
    pending.closed();
    expect(limits.unauthenticatedConnections).toBe(1);
  });

  it('frees an unauthenticated place when a connection closes before authenticating', () => {
    const limits = new ConnectionLimits({ ...roomy, maxUnauthenticatedConnections: 1 });
    admitted(limits.admit('10.0.0.1', 'unauthenticated')).closed();
    expect(limits.unauthenticatedConnections).toBe(0);
    admitted(limits.admit('10.0.0.1', 'unauthenticated'));
  });

  it('limits connections per client IP, counting IPv4-mapped addresses as the IPv4 host', () => {
    const limits = new ConnectionLimits({ ...roomy, maxConnectionsPerIp: 2 });
    const a = admitted(limits.admit('10.0.0.1', 'authenticated'));
    admitted(limits.admit('::ffff:10.0.0.1', 'authenticated'));
    expect(limits.admit('10.0.0.1', 'authenticated')).toBe('per-ip');
    admitted(limits.admit('10.0.0.2', 'authenticated'));
    a.closed();
    expect(limits.connectionsFrom('10.0.0.1')).toBe(1);
    admitted(limits.admit('10.0.0.1', 'authenticated'));
  });

  it('limits new connections per second per IP, and a refused connection takes nothing', () => {
    const clock = manualClock();
    const limits = new ConnectionLimits({ ...roomy, maxNewConnectionsPerSecondPerIp: 3, maxConnectionsPerIp: 2 }, clock.now);
    const first = admitted(limits.admit('10.0.0.1', 'authenticated'));
    admitted(limits.admit('10.0.0.1', 'authenticated'));
    // Refused by the count: no new-connection allowance spent.
    expect(limits.admit('10.0.0.1', 'authenticated')).toBe('per-ip');
    first.closed();
    admitted(limits.admit('10.0.0.1', 'authenticated')).closed();
    expect(limits.admit('10.0.0.1', 'authenticated')).toBe('per-ip-rate');
    expect(limits.connectionsFrom('10.0.0.1')).toBe(1);
    clock.advance(1000);
    admitted(limits.admit('10.0.0.1', 'authenticated'));
  });

  it('forgets an IP once its last connection closes', () => {
    const limits = new ConnectionLimits(roomy);
    const conns = Array.from({ length: 50 }, (_, i) => admitted(limits.admit(`10.1.0.${i}`, 'unauthenticated')));
    for (const c of conns) c.closed();
    expect(limits.openConnections).toBe(0);
    expect(limits.unauthenticatedConnections).toBe(0);
    expect(limits.connectionsFrom('10.1.0.7')).toBe(0);
  });
});

describe('PreAuthBytesBudget', () => {
  it('holds each connection at what it buffers now, and refuses the one that would pass the budget', () => {
    const budget = new PreAuthBytesBudget(1000);
    let refusals = 0;
    const a = budget.share(() => refusals++);
    const b = budget.share(() => refusals++);
    expect(a.set(600)).toBe(true);
    expect(b.set(300)).toBe(true);
    expect(a.set(700)).toBe(true);
    expect(b.set(301)).toBe(false);
    expect([budget.heldBytes, refusals]).toEqual([1000, 1]);
    a.set(0);
    expect(b.set(900)).toBe(true);
    b.release();
    b.release();
    expect(budget.heldBytes).toBe(0);
  });
});

describe('ConnectionRefusals', () => {
  it('counts every refusal and logs at most one line per reason per second, with how many went unlogged', async () => {
    const lines: { reason: string; refusedNotLogged: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    const metrics = new ProxyMetrics();
    const clock = manualClock();
    const refusals = new ConnectionRefusals('secure', metrics, createLogger('info', sink), clock.now);
    for (let i = 0; i < 500; i++) refusals.record('per-ip-rate', '10.0.0.1');
    refusals.record('max-connections', '10.0.0.2');
    clock.advance(1000);
    refusals.record('per-ip-rate', '10.0.0.1');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.reason, l.refusedNotLogged])).toEqual([
      ['per-ip-rate', 0],
      ['max-connections', 0],
      ['per-ip-rate', 499],
    ]);
    const counted = (await metrics.connectionsRefused.get()).values.map((v) => [v.labels.reason, v.value]);
    expect(counted).toEqual([
      ['per-ip-rate', 501],
      ['max-connections', 1],
    ]);
  });
});

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/logger.js';
import { ProxyMetrics } from '../../src/observe/metrics.js';
import { type Admission, type AcceptLimit, ConnectionLimits } from '../../src/proxy/connection-limits.js';
import { ConnectionRefusals } from '../../src/proxy/connection-refusals.js';
import { NewConnectionRate } from '../../src/proxy/new-connection-rate.js';
import { MemoryBudget } from '../../src/proxy/memory-budget.js';

/** A clock the test moves by hand. */
function manualClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const roomy = {
  maxConnections: 1000,
  maxUnauthenticatedConnections: 1000,
  maxUnauthenticatedConnectionsPerIp: 1000,
  maxConnectionsPerIp: 1000,
  maxNewConnectionsPerSecondPerIp: 1000,
};

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

  it('limits connections still authenticating per client IP; authenticated ones do not count', () => {
    const limits = new ConnectionLimits({ ...roomy, maxUnauthenticatedConnectionsPerIp: 2 });
    const first = admitted(limits.admit('10.0.0.1', 'unauthenticated'));
    admitted(limits.admit('10.0.0.1', 'unauthenticated'));
    expect(limits.admit('10.0.0.1', 'unauthenticated')).toBe('per-ip-unauthenticated');
    // Another host, and connections that need no authentication, are not affected.
    admitted(limits.admit('10.0.0.2', 'unauthenticated'));
    admitted(limits.admit('10.0.0.1', 'authenticated'));
    first.authenticated();
    expect(limits.unauthenticatedConnectionsFrom('10.0.0.1')).toBe(1);
    const third = admitted(limits.admit('10.0.0.1', 'unauthenticated'));
    third.closed();
    third.closed();
    expect(limits.unauthenticatedConnectionsFrom('10.0.0.1')).toBe(1);
    admitted(limits.admit('10.0.0.1', 'unauthenticated'));
  });

  it('counts an IPv6 client as its /64, for the connection count and the rate alike', () => {
    const clock = manualClock();
    const limits = new ConnectionLimits({ ...roomy, maxConnectionsPerIp: 2, maxNewConnectionsPerSecondPerIp: 3 }, clock.now);
    admitted(limits.admit('2001:db8:1:2::1', 'authenticated'));
    admitted(limits.admit('2001:db8:1:2:ffff:ffff:ffff:fffe', 'authenticated'));
    expect(limits.admit('2001:db8:1:2:abcd::9', 'authenticated')).toBe('per-ip');
    const elsewhere = admitted(limits.admit('2001:db8:1:3::1', 'authenticated'));
    elsewhere.closed();
    admitted(limits.admit('2001:db8:1:3::2', 'authenticated')).closed();
    admitted(limits.admit('2001:db8:1:3::3', 'authenticated')).closed();
    expect(limits.admit('2001:db8:1:3::4', 'authenticated')).toBe('per-ip-rate');
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

describe('MemoryBudget as the pre-authentication byte budget', () => {
  /** A connection whose eviction closes it, as the listener's does: its share is released at once. */
  function connection(budget: MemoryBudget, closed: string[], name: string) {
    const share = budget.share(() => {
      closed.push(name);
      share.release();
    });
    return share;
  }

  it('closes the connection holding the most, not a newcomer with a small frame', () => {
    const budget = new MemoryBudget(1000);
    const closed: string[] = [];
    const hog = connection(budget, closed, 'hog');
    const other = connection(budget, closed, 'other');
    expect(hog.set(700)).toBe(true);
    expect(other.set(250)).toBe(true);
    // A real client's SASL frame spanning two reads: its second read must still find room.
    const newcomer = connection(budget, closed, 'newcomer');
    expect(newcomer.set(40)).toBe(true);
    expect(newcomer.set(80)).toBe(true);
    expect(closed).toEqual(['hog']);
    expect(budget.heldBytes).toBe(330);
  });

  it('refuses the asking connection when it would itself hold the most', () => {
    const budget = new MemoryBudget(1000);
    const closed: string[] = [];
    connection(budget, closed, 'small').set(300);
    const greedy = connection(budget, closed, 'greedy');
    expect(greedy.set(600)).toBe(true);
    expect(greedy.set(800)).toBe(false);
    expect(closed).toEqual([]);
    expect([greedy.held, budget.heldBytes]).toEqual([600, 900]);
    greedy.release();
    greedy.release();
    expect(budget.heldBytes).toBe(300);
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

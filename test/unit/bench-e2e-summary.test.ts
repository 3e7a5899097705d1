import { describe, expect, it } from 'vitest';
import type { LatencySample, ThroughputSample } from '../../bench/e2e-summary.js';
import { summarise } from '../../bench/e2e-summary.js';

function throughput(configuration: string, round: number, produce: number): ThroughputSample {
  const result = { records: 1, recordsPerSecond: produce, mibPerSecond: produce / 10_000, fetchMs: 1, rebalanceMs: 0 };
  return {
    round,
    configuration,
    recordSize: 100,
    loadAverage: 1,
    produce: { ...result, avgLatencyMs: 1, maxLatencyMs: 1, p50Ms: 1, p95Ms: 1, p99Ms: 1, p999Ms: 1 },
    consume: result,
    produceCpuMsPerMiB: undefined,
    consumeCpuMsPerMiB: undefined,
  };
}

function latency(configuration: string, round: number, p99Ms: number, probeP99Us = 500): LatencySample {
  return {
    round,
    configuration,
    recordSize: 100,
    loadAverage: 1,
    rate: 1000,
    produce: { records: 1, recordsPerSecond: 1000, mibPerSecond: 0.1, avgLatencyMs: 1, maxLatencyMs: p99Ms, p50Ms: 1, p95Ms: 1, p99Ms, p999Ms: p99Ms },
    probe: { samples: 1000, p50Us: 300, p99Us: probeP99Us, p999Us: probeP99Us },
  };
}

describe('e2e summary', () => {
  it('compares each round with direct from the same round, so a slow round does not count against one path only', () => {
    // Round 2 ran while the machine was busy: everything was slow, direct included.
    const samples = [
      throughput('direct', 1, 100_000),
      throughput('direct', 2, 300_000),
      throughput('direct', 3, 200_000),
      throughput('proxy', 1, 90_000),
      throughput('proxy', 2, 150_000),
      throughput('proxy', 3, 190_000),
    ];
    const latencies = [
      latency('direct', 1, 10, 400),
      latency('direct', 2, 30, 9000),
      latency('direct', 3, 12, 500),
      latency('proxy', 1, 11, 450),
      latency('proxy', 2, 12, 1000),
      latency('proxy', 3, 14, 620),
    ];
    const proxy = summarise(['direct', 'proxy'], [100], samples, latencies).find((r) => r.configuration === 'proxy')!;
    // Per round 0.9, 0.5, 0.95: the median is 0.9, where the ratio of medians would say 0.75.
    expect(proxy.produceRatio).toBeCloseTo(0.9);
    expect(proxy.produceRecordsPerSecond).toBe(150_000);
    // Per round +1, -18, +2 ms.
    expect(proxy.addedP99Ms).toBe(1);
    // Probe per round +50, -8000, +120 µs.
    expect(proxy.addedProbeP99Us).toBe(50);
    expect(proxy.probeP99Us).toBe(620);
  });
});

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

  it('reports the median CPU per MiB of the whole proxy and of its supervisor alone, and none where nothing was measured', () => {
    const withCpu = (s: ThroughputSample, total: number, supervisor?: number): ThroughputSample => ({
      ...s,
      produceCpuMsPerMiB: total,
      consumeCpuMsPerMiB: total / 4,
      produceSupervisorCpuMsPerMiB: supervisor,
      consumeSupervisorCpuMsPerMiB: supervisor,
      forwarderProcesses: supervisor === undefined ? 1 : 3,
    });
    const samples = [
      throughput('direct', 1, 100_000),
      throughput('direct', 2, 100_000),
      throughput('direct', 3, 100_000),
      withCpu(throughput('relay', 1, 90_000), 6),
      withCpu(throughput('relay', 2, 90_000), 5),
      withCpu(throughput('relay', 3, 90_000), 7),
      withCpu(throughput('proxy', 1, 80_000), 9, 0.02),
      withCpu(throughput('proxy', 2, 80_000), 12, 0),
      withCpu(throughput('proxy', 3, 80_000), 10, 0.01),
    ];
    const latencies = ['direct', 'relay', 'proxy'].flatMap((c) => [1, 2, 3].map((round) => latency(c, round, 10)));
    const rows = summarise(['direct', 'relay', 'proxy'], [100], samples, latencies);
    const [direct, relay, proxy] = ['direct', 'relay', 'proxy'].map((c) => rows.find((r) => r.configuration === c)!);
    expect(direct.produceCpuMsPerMiB).toBeUndefined();
    expect(direct.produceSupervisorCpuMsPerMiB).toBeUndefined();
    expect(relay.produceCpuMsPerMiB).toBe(6);
    expect(relay.consumeCpuMsPerMiB).toBe(1.5);
    expect(relay.produceSupervisorCpuMsPerMiB).toBeUndefined();
    expect(proxy.produceCpuMsPerMiB).toBe(10);
    expect(proxy.produceSupervisorCpuMsPerMiB).toBe(0.01);
    expect(proxy.consumeSupervisorCpuMsPerMiB).toBe(0.01);
  });
});

import type { RecordSize } from './e2e-options.js';
import type { ConsumeResult, ProduceResult } from './kafka-perf.js';
import type { ProbeResult } from './latency-probe.js';

interface Sample {
  round: number;
  configuration: string;
  recordSize: RecordSize;
  /** 1-minute load average when the measurement ended: how noisy the machine was. */
  loadAverage: number;
}

export interface ThroughputSample extends Sample {
  produce: ProduceResult;
  consume: ConsumeResult;
  /**
   * CPU the forwarder spent per MiB of record payload, warm-up run included; none for direct.
   * The relay's one process; a proxy's supervisor and all its workers.
   */
  produceCpuMsPerMiB: number | undefined;
  consumeCpuMsPerMiB: number | undefined;
  /** A proxy's supervisor's part of that (it only accepts connections); none for direct and the relay. */
  produceSupervisorCpuMsPerMiB?: number;
  consumeSupervisorCpuMsPerMiB?: number;
  /** Processes whose CPU was summed: 1 for the relay, 1 + workers for a proxy. */
  forwarderProcesses?: number;
}

export interface LatencySample extends Sample {
  /** Records/s asked of ProducerPerformance. */
  rate: number;
  produce: ProduceResult;
  /** One Produce request at a time on its own connection, beside the load, in microseconds. */
  probe: ProbeResult;
}

/** Medians over rounds for one configuration and record size; ratios and added latency are paired with direct's round by round. */
export interface ConfigurationSummary {
  configuration: string;
  recordSize: RecordSize;
  produceRecordsPerSecond: number;
  produceMibPerSecond: number;
  produceRatio: number;
  consumeRecordsPerSecond: number;
  consumeMibPerSecond: number;
  consumeRatio: number;
  /** Fastest round / slowest round of this path: how far the machine's noise moves one figure. */
  produceSpread: number;
  consumeSpread: number;
  produceCpuMsPerMiB: number | undefined;
  consumeCpuMsPerMiB: number | undefined;
  produceSupervisorCpuMsPerMiB: number | undefined;
  consumeSupervisorCpuMsPerMiB: number | undefined;
  latencyRate: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  addedP99Ms: number;
  probeP50Us: number;
  probeP99Us: number;
  probeP999Us: number;
  /** Probe p50 and p99 minus direct's, paired by round. */
  addedProbeP50Us: number;
  addedProbeP99Us: number;
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * One row per record size and configuration, in the order given; the first configuration is the
 * baseline. Ratios and added latency are paired: each round's figure is compared with the
 * baseline's from the same round (measured minutes apart at most, under the same load), and the
 * median of those per-round comparisons is reported, so drifts in the machine's load between
 * rounds cancel out instead of adding to the noise.
 */
export function summarise(
  configurations: string[],
  sizes: readonly RecordSize[],
  throughput: ThroughputSample[],
  latency: LatencySample[],
): ConfigurationSummary[] {
  const [baseline] = configurations;
  const rows: ConfigurationSummary[] = [];
  for (const recordSize of sizes) {
    const of = <T extends Sample>(samples: T[], configuration: string) =>
      samples.filter((s) => s.recordSize === recordSize && s.configuration === configuration);
    const medianOf = <T extends Sample>(samples: T[], configuration: string, pick: (s: T) => number) => median(of(samples, configuration).map(pick));
    /** Median over rounds of compare(this path's figure, the baseline's figure in the same round). */
    const paired = <T extends Sample>(samples: T[], configuration: string, pick: (s: T) => number, compare: (value: number, base: number) => number) => {
      const base = new Map(of(samples, baseline).map((s) => [s.round, pick(s)]));
      return median(
        of(samples, configuration)
          .filter((s) => base.has(s.round))
          .map((s) => compare(pick(s), base.get(s.round)!)),
      );
    };
    const ratio = (value: number, base: number) => value / base;
    const difference = (value: number, base: number) => value - base;
    for (const configuration of configurations) {
      const t = (pick: (s: ThroughputSample) => number) => medianOf(throughput, configuration, pick);
      const cpu = (pick: (s: ThroughputSample) => number | undefined) => {
        const values = of(throughput, configuration).map(pick).filter((v) => v !== undefined);
        return values.length ? median(values) : undefined;
      };
      const spread = (pick: (s: ThroughputSample) => number) => {
        const values = of(throughput, configuration).map(pick);
        return Math.max(...values) / Math.min(...values);
      };
      const l = (pick: (s: LatencySample) => number) => medianOf(latency, configuration, pick);
      const p99 = (s: LatencySample) => s.produce.p99Ms;
      rows.push({
        configuration,
        recordSize,
        produceRecordsPerSecond: t((s) => s.produce.recordsPerSecond),
        produceMibPerSecond: t((s) => s.produce.mibPerSecond),
        produceRatio: paired(throughput, configuration, (s) => s.produce.recordsPerSecond, ratio),
        consumeRecordsPerSecond: t((s) => s.consume.recordsPerSecond),
        consumeMibPerSecond: t((s) => s.consume.mibPerSecond),
        consumeRatio: paired(throughput, configuration, (s) => s.consume.recordsPerSecond, ratio),
        produceSpread: spread((s) => s.produce.recordsPerSecond),
        consumeSpread: spread((s) => s.consume.recordsPerSecond),
        produceCpuMsPerMiB: cpu((s) => s.produceCpuMsPerMiB),
        consumeCpuMsPerMiB: cpu((s) => s.consumeCpuMsPerMiB),
        produceSupervisorCpuMsPerMiB: cpu((s) => s.produceSupervisorCpuMsPerMiB),
        consumeSupervisorCpuMsPerMiB: cpu((s) => s.consumeSupervisorCpuMsPerMiB),
        latencyRate: l((s) => s.rate),
        avgLatencyMs: l((s) => s.produce.avgLatencyMs),
        p50Ms: l((s) => s.produce.p50Ms),
        p99Ms: l(p99),
        p999Ms: l((s) => s.produce.p999Ms),
        addedP99Ms: paired(latency, configuration, p99, difference),
        probeP50Us: l((s) => s.probe.p50Us),
        probeP99Us: l((s) => s.probe.p99Us),
        probeP999Us: l((s) => s.probe.p999Us),
        addedProbeP50Us: paired(latency, configuration, (s) => s.probe.p50Us, difference),
        addedProbeP99Us: paired(latency, configuration, (s) => s.probe.p99Us, difference),
      });
    }
  }
  return rows;
}

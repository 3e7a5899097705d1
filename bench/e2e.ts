import { loadavg } from 'node:os';
import type { AuthzProxy } from './authz-proxy.js';
import { type Configuration, startE2eEnvironment } from './e2e-env.js';
import { count, sizeLabel } from './e2e-format.js';
import { type E2eOptions, RECORD_SIZES, type RecordSize } from './e2e-options.js';
import { type ConfigurationSummary, type LatencySample, type ThroughputSample, median, summarise } from './e2e-summary.js';
import { KafkaPerfTools, type PerfTarget } from './kafka-perf.js';
import { probeProduceLatency } from './latency-probe.js';
import { measureIdleMemory, type IdleMemory } from './peers/idle-memory.js';
import { treeCpuMs, treeRssBytes } from './process-tree.js';
import { TopicMaker } from './topics.js';

export interface E2eResults {
  options: E2eOptions;
  configurations: string[];
  /** Producer records/s of the latency runs, per record size: half of direct's median saturating rate. */
  latencyRates: Record<RecordSize, number>;
  summary: ConfigurationSummary[];
  throughput: ThroughputSample[];
  latency: LatencySample[];
  /** The policy proxy+authz enforced (not on the peers' run). */
  authzPolicy: AuthzProxy['policy'] | undefined;
  /** The peers measured, with their versions (the peers' run only). */
  peers: { name: string; version: string }[];
  /** Each forwarder's idle RSS and memory per idle connection, measured before any load (the peers' run only). */
  idleMemory: IdleMemory[] | undefined;
  /** Each forwarder's RSS after the run's load, in MiB (the peers' run only). */
  rssAfterLoadMiB: Record<string, number> | undefined;
  /** Warnings, errors and denials the proxies logged during the run. */
  proxyProblems: string[];
  seconds: number;
}

type Log = (line: string) => void;

/** Each measured run follows a warm-up run a quarter its size in the same client JVM. */
const WARMUP_FRACTION = 0.25;

/** What every measurement needs: the tools, the paths and a fresh topic on demand. */
interface Bench {
  options: E2eOptions;
  tools: KafkaPerfTools;
  /** Fails the measurement at once if the relay or a proxy dies under it. */
  guard<T>(work: Promise<T>): Promise<T>;
  configurations: Configuration[];
  /** New 1-partition topics reached through `config`, so a consumer reads exactly what was produced. */
  target(config: Configuration, purpose: string): Promise<PerfTarget>;
  /** A new 1-partition topic of the latency probe's own. */
  probeTopic(target: PerfTarget): Promise<string>;
  log: Log;
}

/**
 * Produce and consume throughput at full speed, then produce latency at a fixed rate, through
 * every configuration (path to the broker) in turn.
 */
export async function runE2eBench(options: E2eOptions, log: Log): Promise<E2eResults> {
  const started = Date.now();
  const env = await startE2eEnvironment(log, options.workers, { record: options.record, peers: options.peers });
  try {
    const tools = await KafkaPerfTools.create(env.workDir, log);
    const topics = await TopicMaker.connect(env.broker);
    try {
      let topicCount = 0;
      const bench: Bench = {
        options,
        tools,
        guard: env.guard,
        configurations: env.configurations,
        log,
        async target(config, purpose) {
          const topic = `e2e-${++topicCount}-${purpose}-${config.name.replace(/[^a-zA-Z0-9._-]/g, '_')}`;
          const warmupTopic = `${topic}-warmup`;
          await topics.create(topic, warmupTopic);
          return { bootstrap: config.bootstrap, clientProperties: config.clientProperties, topic, warmupTopic };
        },
        async probeTopic(target) {
          const topic = `${target.topic}-probe`;
          await topics.create(topic);
          return topic;
        },
      };
      const idleMemory = options.peers ? await measureIdleMemory(env.configurations, options.peers.idleConnections, log) : undefined;
      if (options.warmUpBroker) await warmUp(bench);
      const throughput = await measureThroughput(bench);
      const latencyRates = halfSaturatingRates(throughput, env.configurations[0].name);
      const latency = await measureLatency(bench, latencyRates);
      const configurations = env.configurations.map((c) => c.name);
      const rssAfterLoadMiB = options.peers
        ? Object.fromEntries(env.configurations.flatMap((c) => (c.forwarderPid === undefined ? [] : [[c.name, treeRssBytes(c.forwarderPid) / 2 ** 20]])))
        : undefined;
      return {
        options,
        configurations,
        latencyRates,
        summary: summarise(configurations, RECORD_SIZES, throughput, latency),
        throughput,
        latency,
        authzPolicy: env.authzPolicy,
        peers: env.peers,
        idleMemory,
        rssAfterLoadMiB,
        proxyProblems: [...env.proxyProblems()],
        seconds: (Date.now() - started) / 1000,
      };
    } finally {
      await topics.close();
    }
  } finally {
    await env.stop();
  }
}

/**
 * A freshly started broker runs interpreted code for its first seconds of traffic; without this
 * the first path measured would pay for it. Nothing here is recorded.
 */
async function warmUp(bench: Bench): Promise<void> {
  const records = Math.ceil(bench.options.records[1024] * WARMUP_FRACTION);
  for (const config of bench.configurations) {
    bench.log(`e2e: warm-up, ${config.name}: producing and consuming 1 KiB records`);
    const target = await bench.target(config, 'warmup');
    await bench.guard(bench.tools.produce(target, records, 1024, -1, records));
    await bench.guard(bench.tools.consume(target, records, records));
  }
}

async function measureThroughput(bench: Bench): Promise<ThroughputSample[]> {
  const samples: ThroughputSample[] = [];
  for (const { round, recordSize, config, step } of schedule(bench, 'throughput')) {
    const records = bench.options.records[recordSize];
    const warmup = Math.ceil(records * WARMUP_FRACTION);
    const target = await bench.target(config, `max-${recordSize}`);
    const mib = ((records + warmup) * recordSize) / 2 ** 20;
    bench.log(`${step} producing ${count(records)} records at full speed (after ${count(warmup)} to warm up)`);
    const [produce, produceCpu] = await forwarderCpu(config, () => bench.guard(bench.tools.produce(target, records, recordSize, -1, warmup)));
    bench.log(`${step} consuming them`);
    const [consume, consumeCpu] = await forwarderCpu(config, () => bench.guard(bench.tools.consume(target, records, warmup)));
    bench.log(
      `${step} produce ${count(produce.recordsPerSecond)} rec/s (${produce.mibPerSecond.toFixed(1)} MiB/s), ` +
        `consume ${count(consume.recordsPerSecond)} rec/s (${consume.mibPerSecond.toFixed(1)} MiB/s)`,
    );
    samples.push({
      round,
      configuration: config.name,
      recordSize,
      loadAverage: loadavg()[0],
      produce,
      consume,
      produceCpuMsPerMiB: perMiB(produceCpu?.totalMs, mib),
      consumeCpuMsPerMiB: perMiB(consumeCpu?.totalMs, mib),
      produceSupervisorCpuMsPerMiB: perMiB(produceCpu?.supervisorMs, mib),
      consumeSupervisorCpuMsPerMiB: perMiB(consumeCpu?.supervisorMs, mib),
      forwarderProcesses: produceCpu?.processes,
    });
  }
  return samples;
}

const perMiB = (ms: number | undefined, mib: number) => (ms === undefined ? undefined : ms / mib);

/** CPU ms a forwarder spent during one measurement. */
interface ForwarderCpu {
  /** The whole process tree: the relay; a proxy's supervisor and all its workers. */
  totalMs: number;
  /** A proxy's supervisor alone (none for the relay). */
  supervisorMs: number | undefined;
  /** Processes summed in totalMs. */
  processes: number;
}

/** Runs `measure` and the CPU ms the path's forwarder (relay, proxy) spent meanwhile, warm-up included. */
async function forwarderCpu<T>(config: Configuration, measure: () => Promise<T>): Promise<[T, ForwarderCpu | undefined]> {
  const cpu = () => (config.forwarderPid === undefined ? undefined : treeCpuMs(config.forwarderPid));
  const before = cpu();
  const result = await measure();
  const after = cpu();
  if (before === undefined || after === undefined) return [result, undefined];
  return [
    result,
    {
      totalMs: after.totalMs - before.totalMs,
      supervisorMs: config.workers === undefined ? undefined : after.rootMs - before.rootMs,
      processes: after.processes,
    },
  ];
}

/** Half of the baseline's median full-speed produce rate: busy, but below saturation on every path. */
function halfSaturatingRates(throughput: ThroughputSample[], baseline: string): Record<RecordSize, number> {
  const rate = (size: RecordSize) =>
    Math.round(median(throughput.filter((s) => s.configuration === baseline && s.recordSize === size).map((s) => s.produce.recordsPerSecond)) / 2);
  return { 100: rate(100), 1024: rate(1024) };
}

/** The probe sends this many requests a second beside ProducerPerformance's load. */
export const PROBE_PER_SECOND = 400;
/** ProducerPerformance's JVM start, before its warm-up run. */
const JVM_START_SECONDS = 1.5;

async function measureLatency(bench: Bench, rates: Record<RecordSize, number>): Promise<LatencySample[]> {
  const samples: LatencySample[] = [];
  const { latencySeconds } = bench.options;
  for (const { round, recordSize, config, step } of schedule(bench, 'latency')) {
    const rate = rates[recordSize];
    const records = Math.max(1, Math.round(rate * latencySeconds));
    const warmup = Math.ceil(records * WARMUP_FRACTION);
    const target = await bench.target(config, `rate-${recordSize}`);
    const [host, port] = config.bootstrap.split(':');
    const probe = { host, port: Number(port), token: config.token, topic: await bench.probeTopic(target), dialer: config.dialer };
    bench.log(`${step} producing ${count(records)} records at ${count(rate)} rec/s (after ${count(warmup)} to warm up), probing meanwhile`);
    // The probe runs inside the measured run: after the JVM's start and its warm-up run, ending before the measured run does.
    const probeDelay = JVM_START_SECONDS + latencySeconds * WARMUP_FRACTION;
    const [produce, probed] = await bench.guard(
      Promise.all([
        bench.tools.produce(target, records, recordSize, rate, warmup),
        probeProduceLatency(probe, probeDelay, Math.max(1, latencySeconds - JVM_START_SECONDS), PROBE_PER_SECOND),
      ]),
    );
    bench.log(
      `${step} p50 ${produce.p50Ms} ms, p99 ${produce.p99Ms} ms, p99.9 ${produce.p999Ms} ms (sent ${count(produce.recordsPerSecond)} rec/s); ` +
        `probe p50 ${count(probed.p50Us)} µs, p99 ${count(probed.p99Us)} µs`,
    );
    samples.push({ round, configuration: config.name, recordSize, loadAverage: loadavg()[0], rate, produce, probe: probed });
  }
  return samples;
}

/**
 * Rounds of every record size through every configuration. Each round starts one
 * configuration later, so no path always runs first and slow drifts in the machine's load
 * spread over all of them.
 */
function* schedule(bench: Bench, phase: string) {
  const { configurations, options } = bench;
  for (let round = 1; round <= options.rounds; round++) {
    for (const recordSize of RECORD_SIZES) {
      for (let i = 0; i < configurations.length; i++) {
        const config = configurations[(i + round - 1) % configurations.length];
        const step = `e2e: ${phase} round ${round}/${options.rounds}, ${sizeLabel(recordSize)}, ${config.name}:`;
        yield { round, recordSize, config, step };
      }
    }
  }
}

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classSharingFlags } from '../scripts/kafka/cds.js';
import { resolveKafka } from '../scripts/kafka/resolve.js';
import { runToEnd } from './child-process.js';

/** ProducerPerformance's summary line. Its percentiles are whole milliseconds. */
export interface ProduceResult {
  records: number;
  recordsPerSecond: number;
  /** MiB/s: Kafka's tools print "MB/sec" but divide by 1024 * 1024. */
  mibPerSecond: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** ConsumerPerformance's figures while fetching, i.e. without the consumer group join. */
export interface ConsumeResult {
  records: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  fetchMs: number;
  rebalanceMs: number;
}

export interface PerfTarget {
  bootstrap: string;
  /** Extra client settings, e.g. SASL for a proxy that authenticates. */
  clientProperties: Record<string, string>;
  /** The topic measured. */
  topic: string;
  /** Where the warm-up run before the measured one writes, and reads from. */
  warmupTopic: string;
}

const LAUNCHER_SOURCE = fileURLToPath(new URL('WarmThenMeasure.java', import.meta.url));
const MEASURED = '=== measured run ===';
const RUN_TIMEOUT_MS = 300_000;
// Kafka 4.0's linger.ms default and the stock batch.size, spelled out so that a client upgrade
// cannot change what is measured.
const PRODUCER_PROPERTIES = { acks: '1', 'linger.ms': '5' };
export const DEFAULT_BATCH_SIZE = 16384;

/**
 * Kafka's ProducerPerformance and ConsumerPerformance from the harness's jars. Each measurement
 * is one JVM that first runs the tool on a warm-up topic and then runs it again for real, so
 * the client JVM's start-up and JIT warm-up stay out of the figures.
 */
export class KafkaPerfTools {
  private constructor(
    private readonly classpath: string,
    private readonly jvmFlags: string[],
    private readonly workDir: string,
  ) {}

  static async create(workDir: string, log: (line: string) => void): Promise<KafkaPerfTools> {
    const dist = await resolveKafka(log);
    const classes = join(workDir, 'classes');
    await runToEnd('javac', ['-d', classes, LAUNCHER_SOURCE], RUN_TIMEOUT_MS);
    const log4j = join(workDir, 'tools-log4j.properties');
    // Warnings and errors only, on stderr, which ends up in the error message if a run fails.
    await writeFile(
      log4j,
      [
        'log4j.rootLogger=WARN, stderr',
        'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stderr.Target=System.err',
        'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stderr.layout.ConversionPattern=%p %m (%c)%n',
        '',
      ].join('\n'),
    );
    const jvmFlags = [
      ...(await classSharingFlags(dist, log)),
      '-Xmx512m',
      // The summaries are parsed: pin the number format.
      '-Duser.language=en',
      '-Duser.country=US',
      `-Dlog4j.configuration=file:${log4j}`,
    ];
    // The launcher goes after the jars: the class-data-sharing archive accepts a classpath that
    // extends the one it was recorded with, not one with a new first entry.
    return new KafkaPerfTools(`${dist.classpath}:${classes}`, jvmFlags, workDir);
  }

  /**
   * Sends `records` records of `recordSize` bytes, at `rate` records/s or as fast as possible
   * (-1), after sending `warmupRecords` the same way to the warm-up topic; `batchSize` is the
   * producer's batch.size.
   */
  async produce(target: PerfTarget, records: number, recordSize: number, rate: number, warmupRecords: number, batchSize = DEFAULT_BATCH_SIZE): Promise<ProduceResult> {
    const props = Object.entries({ 'bootstrap.servers': target.bootstrap, ...PRODUCER_PROPERTIES, 'batch.size': String(batchSize) });
    // The client settings go in a file: --producer-props cannot take a value with "=" in it (a
    // JAAS line), and a secret on the command line would show in an error message.
    const config = await this.propertiesFile(`${target.topic}-producer`, target.clientProperties);
    const args = (topic: string, count: number) => [
      '--topic', topic,
      '--num-records', String(count),
      '--record-size', String(recordSize),
      '--throughput', String(rate),
      '--producer-props', ...props.map(([k, v]) => `${k}=${v}`),
      '--producer.config', config,
    ];
    const output = await this.warmThenMeasure('org.apache.kafka.tools.ProducerPerformance', args(target.warmupTopic, warmupRecords), args(target.topic, records));
    return parseProducerSummary(output);
  }

  /** Reads `records` records from the start of the topic in a fresh consumer group, after reading `warmupRecords` from the warm-up topic. */
  async consume(target: PerfTarget, records: number, warmupRecords: number): Promise<ConsumeResult> {
    const config = await this.propertiesFile(`${target.topic}-consumer`, target.clientProperties);
    const args = (topic: string, count: number) => [
      '--bootstrap-server', target.bootstrap,
      '--topic', topic,
      '--group', `${topic}-group`,
      '--messages', String(count),
      '--timeout', '30000',
      '--consumer.config', config,
    ];
    const output = await this.warmThenMeasure('org.apache.kafka.tools.ConsumerPerformance', args(target.warmupTopic, warmupRecords), args(target.topic, records));
    const result = parseConsumerSummary(output);
    if (result.records !== records) throw new Error(`consumed ${result.records} of ${records} records from ${target.topic}:\n${output}`);
    return result;
  }

  /** Writes `properties` to <name>.properties in the work dir; returns its path. */
  private async propertiesFile(name: string, properties: Record<string, string>): Promise<string> {
    const file = join(this.workDir, `${name}.properties`);
    await writeFile(file, Object.entries(properties).map(([k, v]) => `${k}=${v}\n`).join(''));
    return file;
  }

  /** Returns the output of the measured run only. */
  private async warmThenMeasure(mainClass: string, warmup: string[], measured: string[]): Promise<string> {
    const output = await runToEnd('java', [...this.jvmFlags, '-cp', this.classpath, 'WarmThenMeasure', mainClass, ...warmup, '--', ...measured], RUN_TIMEOUT_MS);
    const at = output.indexOf(MEASURED);
    if (at < 0) throw new Error(`${mainClass} warm-up run did not finish:\n${output}`);
    return output.slice(at + MEASURED.length);
  }
}

const PRODUCER_SUMMARY =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;

function parseProducerSummary(output: string): ProduceResult {
  const m = PRODUCER_SUMMARY.exec(output);
  if (!m) throw new Error(`no ProducerPerformance summary in:\n${output}`);
  const [records, recordsPerSecond, mibPerSecond, avgLatencyMs, maxLatencyMs, p50Ms, p95Ms, p99Ms, p999Ms] = m.slice(1).map(Number);
  return { records, recordsPerSecond, mibPerSecond, avgLatencyMs, maxLatencyMs, p50Ms, p95Ms, p99Ms, p999Ms };
}

/** ConsumerPerformance prints a line of column names and a line of values. */
function parseConsumerSummary(output: string): ConsumeResult {
  const lines = output.split('\n');
  const at = lines.findIndex((line) => line.startsWith('start.time, '));
  if (at < 0 || at + 1 >= lines.length) throw new Error(`no ConsumerPerformance summary in:\n${output}`);
  const names = lines[at].split(', ').map((s) => s.trim());
  const values = lines[at + 1].split(', ').map((s) => s.trim());
  const column = (name: string): number => {
    const value = Number(values[names.indexOf(name)]);
    if (!Number.isFinite(value)) throw new Error(`ConsumerPerformance summary has no number for ${name}:\n${output}`);
    return value;
  };
  return {
    records: column('data.consumed.in.nMsg'),
    recordsPerSecond: column('fetch.nMsg.sec'),
    mibPerSecond: column('fetch.MB.sec'),
    fetchMs: column('fetch.time.ms'),
    rebalanceMs: column('rebalance.time.ms'),
  };
}

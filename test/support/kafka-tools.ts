import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { onParentExit } from '../../scripts/kafka/exit-hooks.js';
import { resolveKafka } from '../../scripts/kafka/resolve.js';
import { JVM_FLAGS } from './interop-clients.js';

/**
 * Runs Kafka's own command-line tools (and MirrorMaker 2) in child JVMs, the way the scripts in
 * Kafka's bin/ directory run them: a main class on the Kafka jars' classpath.
 */

/** The main class each bin/ script of Kafka 3.9 runs. */
export const KAFKA_TOOLS = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  consumerGroups: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  configs: 'kafka.admin.ConfigCommand',
  consoleProducer: 'kafka.tools.ConsoleProducer',
  consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  metadataQuorum: 'org.apache.kafka.tools.MetadataQuorumCommand',
  mirrorMaker: 'org.apache.kafka.connect.mirror.MirrorMaker',
} as const;

export interface ToolResult {
  /** Exit code; null when killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface KafkaToolOptions {
  /** Kills the JVM after this long; default 90 s. */
  timeoutMs?: number;
  /** Classpath entries after the Kafka jars, such as javaLibsClasspath(). */
  classpath?: string[];
  /** Written to the tool's stdin, which is then closed (the console producer reads records from it). */
  stdin?: string;
  /** Root log level of the tool's log4j output on stderr; default WARN, as Kafka's tools-log4j.properties. */
  logLevel?: 'INFO' | 'WARN' | 'ERROR';
}

export interface KafkaToolProcess {
  /** Settles when the JVM exits, however it ends. */
  readonly result: Promise<ToolResult>;
  /** Output so far, stdout then stderr: what to show when a long-running tool did not do its job. */
  output(): string;
}

const running = new Set<ChildProcess>();
let classpath: Promise<string> | undefined;
let tempDir: string | undefined;
let fileCount = 0;

/** A file in a private temp directory; removed with the OS temp dir, never shared between runs. */
function tempFile(name: string, content: string): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'kafka-tools-'));
  const file = join(tempDir, name);
  writeFileSync(file, content);
  return file;
}

/** Writes Java properties (--command-config, --producer.config, mm2.properties ...) to a temp file; returns its path. */
export function writeProperties(settings: Record<string, string>): string {
  const escape = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  const text = Object.entries(settings)
    .map(([key, value]) => `${escape(key).replace(/[=: ]/g, '\\$&')}=${escape(value)}`)
    .join('\n');
  return tempFile(`config-${++fileCount}.properties`, text + '\n');
}

function log4jConfig(level: string): string {
  return tempFile(
    `log4j-${level}.properties`,
    [
      `log4j.rootLogger=${level}, stderr`,
      'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stderr.Target=System.err',
      'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
}

/** Starts a tool; the JVM is tracked until it exits, so killKafkaTools() can end it. */
export async function startKafkaTool(mainClass: string, args: string[], opts: KafkaToolOptions = {}): Promise<KafkaToolProcess> {
  const kafkaJars = await (classpath ??= resolveKafka(() => {}).then((dist) => dist.classpath));
  const cp = [kafkaJars, ...(opts.classpath ?? [])].join(delimiter);
  const jvmArgs = [...JVM_FLAGS, `-Dlog4j.configuration=file:${log4jConfig(opts.logLevel ?? 'WARN')}`, '-cp', cp, mainClass, ...args];
  const child = spawn('java', jvmArgs, { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  running.add(child);
  const unregister = onParentExit(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  const timeoutMs = opts.timeoutMs ?? 90_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const result = new Promise<ToolResult>((resolve) => {
    const done = (code: number | null, extra = '') => {
      clearTimeout(timer);
      running.delete(child);
      unregister();
      resolve({ code, stdout, stderr: stderr + extra, timedOut });
    };
    child.on('error', (err) => done(null, `cannot start java: ${err.message}`));
    child.on('close', (code) => done(code));
  });
  return { result, output: () => `${stdout}\n${stderr}` };
}

/** Runs a tool to its end. */
export async function runKafkaTool(mainClass: string, args: string[], opts?: KafkaToolOptions): Promise<ToolResult> {
  return (await startKafkaTool(mainClass, args, opts)).result;
}

/** Kills every tool JVM still running and waits for them to be gone: for afterAll, whatever failed. */
export async function killKafkaTools(): Promise<void> {
  const exits = [...running].map((child) => new Promise((resolve) => child.once('close', resolve)));
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(exits);
}

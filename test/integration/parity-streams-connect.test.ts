import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { resolveKafka } from '../../scripts/kafka/resolve.js';
import { pickFreePorts } from '../../scripts/kafka/ports.js';
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { migrationCommand } from '../../src/migration/cli.js';
import { createLogger } from '../../src/observe/logger.js';
import { JVM_FLAGS, javaLibsClasspath, javaOAuthSettings } from '../support/interop-clients.js';
import { oauthListener } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * Broker parity for the two big Kafka frameworks: Kafka Streams with exactly_once_v2 and a Kafka
 * Connect distributed worker, each through a transparent listener and through an OAUTHBEARER
 * listener enforcing the example policy for it, read unchanged from examples/policies/.
 */

const repoRoot = new URL('../../', import.meta.url).pathname;
const policy = (name: string) => readFileSync(join(repoRoot, 'examples/policies', name), 'utf8');

/** The principals the example policies bind, as dev-issuer clients whose subject is that principal. */
const STREAMS_PRINCIPAL = 'streams-app';
const CONNECT_PRINCIPAL = 'connect-worker';
const CLIENTS = Object.fromEntries([STREAMS_PRINCIPAL, CONNECT_PRINCIPAL].map((id) => [id, { secret: `${id}-secret`, subject: id, roles: [] }]));

/** A long-running JVM: its output is kept for failure messages, and it is killed in afterAll whatever happened. */
interface Jvm {
  child: ChildProcess;
  stdout: () => string;
  /** The end of stdout and stderr, where a JVM says why it failed. */
  tail: () => string;
  exited: Promise<number | null>;
}

const jvms = new Set<Jvm>();

async function startJvm(main: string, args: string[], jvmFlags: string[] = []): Promise<Jvm> {
  const { classpath } = await resolveKafka(() => {});
  const cp = [classpath, ...javaLibsClasspath()].join(delimiter);
  const child = spawn('java', [...JVM_FLAGS, ...jvmFlags, '-cp', cp, main, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output = (output + chunk.toString()).slice(-20_000);
  });
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const jvm: Jvm = { child, stdout: () => stdout, tail: () => output.slice(-6000), exited };
  jvms.add(jvm);
  void exited.then(() => jvms.delete(jvm));
  return jvm;
}

/** Closes the JVM's stdin, which StreamsCount takes as the signal to close and exit. */
function closeStdin(jvm: Jvm): Promise<number | null> {
  jvm.child.stdin?.end();
  return jvm.exited;
}

async function killJvm(jvm: Jvm, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (jvm.child.exitCode === null && jvm.child.signalCode === null) jvm.child.kill(signal);
  return jvm.exited;
}

/** Polls `check` until it returns a value, failing early with the JVM's output if the JVM exits. */
async function waitFor<T>(what: string, jvm: Jvm, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (jvm.child.exitCode !== null) throw new Error(`${what}: the JVM exited with ${jvm.child.exitCode}:\n${jvm.tail()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms; JVM output:\n${jvm.tail()}`);
    await sleep(250);
  }
}

/** The proxy's authorization denials for a principal, as "API resource-type name operation". */
function denials(tp: TestProxy, principal: string): string[] {
  return tp.logs
    .filter((l) => l.msg === 'authorization denied' && l.principal === principal)
    .flatMap((l) => (l.resources as { resourceType: string; resourceName: string; operation: string }[]).map((r) => `${String(l.api)} ${r.resourceType} ${r.resourceName} ${r.operation}`));
}

/** Java client settings for a listener: SASL ones for the OAUTHBEARER listener, none for the transparent one. */
type ClientSettings = Record<string, string>;

describe('Kafka Streams and Kafka Connect through the proxy', () => {
  const kafka = inject('kafka');
  const replicationFactor = kafka.brokers.length;
  const direct = new Kafka({ clientId: 'parity-frameworks', brokers: kafka.bootstrapServers, logLevel: logLevel.NOTHING });
  let issuer: DevIssuer;
  let plain: TestProxy;
  let streamsProxy: TestProxy;
  let connectProxy: TestProxy;
  const recording = mkdtempSync(join(tmpdir(), 'parity-recording-'));

  const oauthSettings = (principal: string): ClientSettings =>
    javaOAuthSettings({ tokenUrl: issuer.tokenUrl, clientId: principal, clientSecret: `${principal}-secret` });

  beforeAll(async () => {
    issuer = await startDevIssuer({ port: 0, clients: CLIENTS, log: createLogger('silent') });
    [plain, streamsProxy, connectProxy] = await Promise.all([
      startTestProxy(),
      startTestProxy(oauthListener(issuer, { mode: 'enforce', policy: policy('kafka-streams-eos.yaml') })),
      // Recording too: what Connect really uses, to check the suggested policy against.
      startTestProxy(oauthListener(issuer, { mode: 'enforce', policy: policy('kafka-connect.yaml'), recordAccess: true, accessRecording: { directory: recording, intervalSeconds: 1 } })),
    ]);
  });

  afterAll(async () => {
    await Promise.all([...jvms].map((jvm) => killJvm(jvm)));
    await plain?.stop();
    await streamsProxy?.stop();
    await connectProxy?.stop();
    await issuer?.stop();
    rmSync(recording, { recursive: true, force: true });
  });

  describe('Kafka Streams, exactly_once_v2: a count by a new key, through a repartition topic and a changelog-backed store', () => {
    /** Input records per value: what the output must count, exactly. */
    const EXPECTED: Record<string, number> = { red: 40, green: 25, blue: 17, white: 9, black: 1 };

    async function runCount(tp: TestProxy, appId: string, input: string, output: string, settings: ClientSettings): Promise<void> {
      await Promise.all([
        createTopic({ topic: input, numPartitions: 3, replicationFactor }),
        createTopic({ topic: output, numPartitions: 2, replicationFactor }),
      ]);
      const values = Object.entries(EXPECTED).flatMap(([value, n]) => Array.from({ length: n }, () => value));
      const producer = direct.producer();
      await producer.connect();
      // Keyed by user, so each value is spread over every input partition and must be re-keyed to be counted.
      await producer.send({ topic: input, messages: values.map((value, i) => ({ key: `user-${i % 11}`, value })) });
      await producer.disconnect();

      const seen = new Map<string, number[]>();
      // kafkajs reads with read_committed unless told otherwise: only committed transactions count.
      const consumer = direct.consumer({ groupId: `${output}-check`, readUncommitted: false });
      await consumer.connect();
      await consumer.subscribe({ topic: output, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const key = message.key!.toString();
          seen.set(key, [...(seen.get(key) ?? []), Number(message.value!.toString())]);
        },
      });
      const props = Object.entries(settings).flatMap(([k, v]) => ['--prop', `${k}=${v}`]);
      const streams = await startJvm(join(repoRoot, 'test/interop/java/StreamsCount.java'), [tp.bootstrap, appId, input, output, ...props]);
      try {
        const done = () => Object.entries(EXPECTED).every(([value, n]) => seen.get(value)?.at(-1) === n);
        await waitFor('Streams counts every input record', streams, 90_000, () => (done() ? true : undefined));
        expect(await closeStdin(streams), `Streams closes cleanly:\n${streams.tail()}`).toBe(0);
        expect(streams.stdout()).toContain('{"state":"CLOSED"}');
        // Anything processed twice would show up as a count past n, or a count repeated.
        await sleep(1000);
      } finally {
        await killJvm(streams);
        await consumer.disconnect();
      }
      for (const [value, n] of Object.entries(EXPECTED)) expect(seen.get(value), value).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect([...seen.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
      const admin = direct.admin();
      await admin.connect();
      const topics = await admin.listTopics().finally(() => admin.disconnect());
      expect(topics, 'Streams created its internal topics through the proxy').toEqual(
        expect.arrayContaining([`${appId}-by-value-repartition`, `${appId}-counts-changelog`]),
      );
    }

    it.concurrent('on a transparent listener', async () => {
      await runCount(plain, 'plain-item-counter', 'plain-item-events', 'plain-item-counts', {});
    });

    it.concurrent('on an OAUTHBEARER listener enforcing examples/policies/kafka-streams-eos.yaml, without a denial', async () => {
      await runCount(streamsProxy, 'item-counter', 'item-events', 'item-counts', oauthSettings(STREAMS_PRINCIPAL));
      expect(denials(streamsProxy, STREAMS_PRINCIPAL)).toEqual([]);
    });
  });

  describe('Kafka Connect distributed worker: a FileStreamSource and a FileStreamSink connector', () => {
    const LINES = Array.from({ length: 300 }, (_, i) => `line ${i + 1} of the source file`);
    const text = (from: number, to: number) => LINES.slice(from, to).join('\n') + '\n';

    interface ConnectNames {
      group: string;
      /** Prefix of the config, offset and status topics. */
      storage: string;
      topic: string;
      source: string;
      sink: string;
    }

    function workerProperties(dir: string, bootstrap: string, restPort: number, names: ConnectNames, settings: ClientSettings): string {
      const worker: Record<string, string> = {
        'bootstrap.servers': bootstrap,
        'group.id': names.group,
        'config.storage.topic': `${names.storage}-configs`,
        'offset.storage.topic': `${names.storage}-offsets`,
        'status.storage.topic': `${names.storage}-status`,
        'config.storage.replication.factor': String(replicationFactor),
        'offset.storage.replication.factor': String(replicationFactor),
        'status.storage.replication.factor': String(replicationFactor),
        // Few partitions: each is read from the start at every worker start.
        'offset.storage.partitions': '1',
        'status.storage.partitions': '1',
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        // The sink file is flushed when offsets are committed.
        'offset.flush.interval.ms': '500',
        listeners: `http://127.0.0.1:${restPort}`,
        'rest.advertised.host.name': '127.0.0.1',
        // FileStream connectors are on the classpath with a service manifest: no reflective scan of every jar.
        'plugin.discovery': 'service_load',
      };
      // The worker's own clients take the settings unprefixed, its connectors' clients by prefix.
      for (const [key, value] of Object.entries(settings)) {
        for (const prefix of ['', 'producer.', 'consumer.', 'admin.']) worker[`${prefix}${key}`] = value;
      }
      const file = join(dir, 'worker.properties');
      writeFileSync(file, Object.entries(worker).map(([k, v]) => `${k}=${v.replaceAll('\\', '\\\\')}`).join('\n') + '\n');
      const log4j = join(dir, 'log4j.properties');
      writeFileSync(log4j, 'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=%p %c: %m%n\n');
      return file;
    }

    async function runConnectors(tp: TestProxy, names: ConnectNames, settings: ClientSettings): Promise<void> {
      await createTopic({ topic: names.topic, numPartitions: 1, replicationFactor });
      const dir = mkdtempSync(join(tmpdir(), 'parity-connect-'));
      const sourceFile = join(dir, 'source.txt');
      const sinkFile = join(dir, 'sink.txt');
      writeFileSync(sourceFile, text(0, 100));
      const [restPort] = await pickFreePorts(1);
      const properties = workerProperties(dir, tp.bootstrap, restPort, names, settings);
      const rest = `http://127.0.0.1:${restPort}`;
      const startWorker = () =>
        startJvm('org.apache.kafka.connect.cli.ConnectDistributed', [properties], [`-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`]);
      const post = async (name: string, config: Record<string, string>) => {
        const resp = await fetch(`${rest}/connectors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, config }) });
        // 409 while the worker is still joining its group.
        return resp.status === 201 ? true : undefined;
      };
      const status = async () =>
        JSON.stringify(await Promise.all([names.source, names.sink].map((n) => fetch(`${rest}/connectors/${n}/status`).then((r) => r.json(), String))));
      const sinkLines = () => {
        try {
          return readFileSync(sinkFile, 'utf8').split('\n').filter(Boolean);
        } catch {
          return [];
        }
      };
      const untilSinkHas = (worker: Jvm, count: number) =>
        waitFor(`${count} lines reach the sink file`, worker, 60_000, () => (sinkLines().length >= count ? true : undefined)).catch(async (err: Error) => {
          throw new Error(`${err.message}\nconnector status: ${await status().catch(String)}\nsink has ${sinkLines().length} lines`);
        });

      let worker = await startWorker();
      try {
        const reachable = () => fetch(`${rest}/connectors`).then((r) => (r.ok ? true : undefined), () => undefined);
        await waitFor('the Connect REST API answers', worker, 60_000, reachable);
        await waitFor('the source connector is created', worker, 60_000, () =>
          post(names.source, { 'connector.class': 'org.apache.kafka.connect.file.FileStreamSourceConnector', 'tasks.max': '1', file: sourceFile, topic: names.topic }).catch(() => undefined),
        );
        await waitFor('the sink connector is created', worker, 60_000, () =>
          post(names.sink, { 'connector.class': 'org.apache.kafka.connect.file.FileStreamSinkConnector', 'tasks.max': '1', file: sinkFile, topics: names.topic }).catch(() => undefined),
        );
        // Lines appended while the connectors run arrive too.
        appendFileSync(sourceFile, text(100, 200));
        await untilSinkHas(worker, 200);
        // A restarted worker finds its topics, reads the connectors back from them and resumes
        // each from its stored offsets: nothing is lost or repeated.
        await killJvm(worker, 'SIGTERM');
        worker = await startWorker();
        appendFileSync(sourceFile, text(200, 300));
        await untilSinkHas(worker, 300);
        expect(sinkLines()).toEqual(LINES);
      } finally {
        await killJvm(worker);
      }
    }

    it.concurrent('on a transparent listener', async () => {
      await runConnectors(
        plain,
        { group: 'plain-connect-cluster', storage: 'plain-connect-cluster', topic: 'plain-file-lines', source: 'plain-file-source', sink: 'plain-file-sink' },
        {},
      );
    });

    it.concurrent('on an OAUTHBEARER listener enforcing examples/policies/kafka-connect.yaml, without a denial', async ({ expect }) => {
      await runConnectors(
        connectProxy,
        { group: 'connect-cluster', storage: 'connect-cluster', topic: 'file-lines', source: 'file-source', sink: 'file-sink' },
        oauthSettings(CONNECT_PRINCIPAL),
      );
      expect(denials(connectProxy, CONNECT_PRINCIPAL)).toEqual([]);
      // The recording names the sink connector's group as Connect named it, and the worker's;
      // a policy suggested from it allows all Connect did, and so does the example policy.
      // The proxy writes its recording every second: poll until it holds the sink's group (the
      // test's own expect: a concurrent test's expect.poll needs it).
      let text = '';
      const suggestedGroups = async () => {
        text = '';
        await migrationCommand(['policy', 'suggest', '--recording', recording], (t) => (text += t));
        const roles = (parseYaml(text) as { roles?: Record<string, { groups?: string[] }[]> } | null)?.roles ?? {};
        return (roles[CONNECT_PRINCIPAL] ?? []).flatMap((grant) => grant.groups ?? []);
      };
      // connect-<sink connector name>, and the worker's group.id.
      await expect.poll(suggestedGroups, { timeout: 10_000, interval: 500 }).toEqual(expect.arrayContaining(['connect-file-sink', 'connect-cluster']));
      expect(text).not.toMatch(/- "?\*"?$/m);
      const suggestedFile = join(recording, 'suggested.yaml');
      writeFileSync(suggestedFile, text);
      for (const policyFile of [suggestedFile, join(repoRoot, 'examples/policies/kafka-connect.yaml')]) {
        let output = '';
        const code = await migrationCommand(['policy', 'check', '--policy', policyFile, '--recording', recording], (t) => (output += t));
        expect({ policyFile, code, output }).toEqual({ policyFile, code: 0, output: expect.not.stringContaining('would be denied') });
      }
    });
  });
});

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { createLogger } from '../../src/observe/logger.js';
import { javaLibsClasspath, javaOAuthSettings } from '../support/interop-clients.js';
import { KAFKA_TOOLS, type ToolResult, killKafkaTools, runKafkaTool, startKafkaTool, writeProperties } from '../support/kafka-tools.js';
import { oauthListener } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * Broker parity: Kafka 3.9's own command-line tools and MirrorMaker 2 work through the proxy as
 * they do against the brokers, on a transparent listener and on an OAUTHBEARER listener
 * enforcing the example policies in examples/policies/ (read unchanged from disk).
 */

const CLI_POLICY = readFileSync(new URL('../../examples/policies/kafka-cli-tools.yaml', import.meta.url), 'utf8');
const MM2_POLICY = readFileSync(new URL('../../examples/policies/mirrormaker2.yaml', import.meta.url), 'utf8');

/** Where a tool connects and with which client settings (none on a transparent listener). */
interface Endpoint {
  bootstrap: string;
  settings: Record<string, string>;
}

interface Suite {
  /** Where the operator runs kafka-topics and the rest. */
  cli: Endpoint;
  /** Where MirrorMaker 2 connects, for both of its cluster aliases. */
  mm2: Endpoint;
  /** The two aliases; each names topics, groups and internal topics of MirrorMaker. */
  aliases: { source: string; target: string };
}

const RECORDS = 10;
const MM2_RECORDS = 30;
const PARTITIONS = 3;

const replicationFactor = () => inject('kafka').brokers.length;
const shortId = () => randomUUID().slice(0, 8);

/** The tool's stdout when it exited 0; otherwise fails with everything it said. */
function succeeded(result: ToolResult): string {
  if (result.code !== 0) {
    const how = result.timedOut ? 'timed out' : `exited with ${result.code}`;
    throw new Error(`tool ${how}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr.slice(-6000)}`);
  }
  return result.stdout;
}

/** kafka-consumer-groups prints a table; the rows for `topic`, by their header's column names. */
function tableRows(stdout: string, topic: string): Record<string, string>[] {
  const lines = stdout.split('\n').map((l) => l.trim().split(/\s+/));
  const header = lines.find((cols) => cols[0] === 'GROUP' && cols[1] === 'TOPIC');
  if (!header) throw new Error(`no table in:\n${stdout}`);
  return lines
    .filter((cols) => cols[1] === topic)
    .map((cols) => Object.fromEntries(header.map((name, i) => [name, cols[i]])))
    .sort((a, b) => Number(a.PARTITION) - Number(b.PARTITION));
}

/**
 * kafka-consumer-groups --reset-offsets in Kafka 3.9 prints its GROUP TOPIC PARTITION NEW-OFFSET
 * table without line breaks between rows; the new offset of each partition of `topic`, in order.
 */
function resetOffsets(stdout: string, topic: string): string[] {
  const words = stdout.trim().split(/\s+/);
  const cells = words.slice(words.indexOf('NEW-OFFSET') + 1);
  const rows = Array.from({ length: cells.length / 4 }, (_, i) => cells.slice(i * 4, i * 4 + 4));
  return rows
    .filter(([, t]) => t === topic)
    .sort((a, b) => Number(a[2]) - Number(b[2]))
    .map((row) => row[3]);
}

const sum = (rows: Record<string, string>[], column: string) => rows.reduce((n, r) => n + Number(r[column]), 0);

function brokerClient(): Kafka {
  return new Kafka({ clientId: 'parity-check', brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING });
}

/** Records in a topic as the brokers report them; 0 while it does not exist. */
async function recordCount(topic: string): Promise<number> {
  const admin = brokerClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } catch {
    return 0;
  } finally {
    await admin.disconnect();
  }
}

/** One config of a topic as the brokers report it. */
async function topicConfig(topic: string, name: string): Promise<string | undefined> {
  const admin = brokerClient().admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }], includeSynonyms: false });
    return resources[0].configEntries.find((e) => e.configName === name)?.configValue;
  } finally {
    await admin.disconnect();
  }
}

/** Every record value in a topic, read straight from the brokers. */
async function readValues(topic: string, count: number): Promise<string[]> {
  const consumer = brokerClient().consumer({ groupId: `parity-read-${shortId()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    await expect.poll(() => values.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(count);
    return values.sort();
  } finally {
    await consumer.disconnect();
  }
}

/** The same checks on each listener: what an operator and MirrorMaker 2 users would run. */
function parityTests(suite: () => Suite): void {
  it('kafka-topics, kafka-configs, the console producer and consumer and kafka-consumer-groups work', async () => {
    const { cli } = suite();
    const config = writeProperties(cli.settings);
    const admin = ['--bootstrap-server', cli.bootstrap, '--command-config', config];
    const id = shortId();
    const topic = `ops-${id}`;
    const group = `ops-g-${id}`;
    const rf = replicationFactor();

    const created = await runKafkaTool(KAFKA_TOOLS.topics, [...admin, '--create', '--topic', topic, '--partitions', String(PARTITIONS), '--replication-factor', String(rf)]);
    expect(succeeded(created)).toContain(`Created topic ${topic}.`);

    // Three independent chains at once: each tool is a JVM start, and they touch different things.
    const describeTopic = async () => {
      const out = succeeded(await runKafkaTool(KAFKA_TOOLS.topics, [...admin, '--describe', '--topic', topic]));
      expect(out).toMatch(new RegExp(`Topic: ${topic}\\s+TopicId: \\S+\\s+PartitionCount: ${PARTITIONS}\\s+ReplicationFactor: ${rf}`));
      expect(out.match(/\tPartition: \d+\s+Leader: \d+/g)).toHaveLength(PARTITIONS);
    };
    const alterConfigs = async () => {
      const configs = [...admin, '--entity-type', 'topics', '--entity-name', topic];
      const altered = succeeded(await runKafkaTool(KAFKA_TOOLS.configs, [...configs, '--alter', '--add-config', 'retention.ms=3600000']));
      expect(altered).toContain(`Completed updating config for topic ${topic}.`);
      const described = succeeded(await runKafkaTool(KAFKA_TOOLS.configs, [...configs, '--describe']));
      expect(described).toContain('retention.ms=3600000');
    };
    const produceConsumeReset = async () => {
      const values = Array.from({ length: RECORDS }, (_, i) => `record-${i}`);
      const clientConfig = writeProperties(cli.settings);
      succeeded(await runKafkaTool(KAFKA_TOOLS.consoleProducer, ['--bootstrap-server', cli.bootstrap, '--producer.config', clientConfig, '--topic', topic], { stdin: values.join('\n') + '\n' }));
      const consumed = await runKafkaTool(KAFKA_TOOLS.consoleConsumer, [
        ...['--bootstrap-server', cli.bootstrap, '--consumer.config', clientConfig, '--topic', topic, '--group', group],
        ...['--from-beginning', '--max-messages', String(RECORDS), '--timeout-ms', '60000'],
      ]);
      expect(succeeded(consumed).trim().split('\n').sort()).toEqual(values.sort());

      const groups = [...admin, '--group', group];
      // kafka-consumer-groups prints its errors and exits 0, so only its table tells success.
      // Rows only for the partitions the consumer committed: the records may all be in one.
      const before = tableRows(succeeded(await runKafkaTool(KAFKA_TOOLS.consumerGroups, [...groups, '--describe'])), topic);
      expect({ committed: sum(before, 'CURRENT-OFFSET'), lag: sum(before, 'LAG') }).toEqual({ committed: RECORDS, lag: 0 });

      const resetOut = succeeded(await runKafkaTool(KAFKA_TOOLS.consumerGroups, [...groups, '--reset-offsets', '--topic', topic, '--to-earliest', '--execute']));
      expect(resetOffsets(resetOut, topic), resetOut).toEqual(['0', '0', '0']);
      const after = tableRows(succeeded(await runKafkaTool(KAFKA_TOOLS.consumerGroups, [...groups, '--describe'])), topic);
      expect(after).toHaveLength(PARTITIONS);
      expect({ committed: sum(after, 'CURRENT-OFFSET'), lag: sum(after, 'LAG') }).toEqual({ committed: 0, lag: RECORDS });
    };
    await Promise.all([describeTopic(), alterConfigs(), produceConsumeReset()]);
  }, 240_000);

  it('kafka-metadata-quorum describe --status reports the KRaft quorum', async () => {
    const { cli } = suite();
    const admin = brokerClient().admin();
    await admin.connect();
    const { clusterId } = await admin.describeCluster().finally(() => admin.disconnect());
    const out = succeeded(await runKafkaTool(KAFKA_TOOLS.metadataQuorum, ['--bootstrap-server', cli.bootstrap, '--command-config', writeProperties(cli.settings), 'describe', '--status']));
    expect(out).toMatch(new RegExp(`ClusterId:\\s+${clusterId}\\n`));
    expect(out).toMatch(/LeaderId:\s+\d+\n/);
    expect(out).toMatch(/CurrentVoters:\s+\[.+\]/);
  });

  it('MirrorMaker 2 replicates a topic, with heartbeats and checkpoints, from one alias of the proxied cluster to the other', async () => {
    const { mm2, aliases } = suite();
    const { source: src, target: dst } = aliases;
    const id = shortId();
    const topic = `mm2src-${id}`;
    const group = `mm2src-g-${id}`;
    const rf = String(replicationFactor());
    // A config of its own, which MirrorMaker copies to the remote topic it creates.
    const retention = { name: 'retention.ms', value: '7200000' };
    await createTopic({ topic, numPartitions: PARTITIONS, replicationFactor: replicationFactor(), configEntries: [retention] });
    const values = Array.from({ length: MM2_RECORDS }, (_, i) => `mm2-${i}`);
    const producer = brokerClient().producer();
    await producer.connect();
    await producer.send({ topic, messages: values.map((value, i) => ({ value, partition: i % PARTITIONS })) });
    await producer.disconnect();
    // A consumer group with committed offsets on the source: what checkpoints translate.
    const admin = brokerClient().admin();
    await admin.connect();
    await admin
      .setOffsets({ groupId: group, topic, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: '5' })) })
      .finally(() => admin.disconnect());

    const clientSettings = (alias: string) => Object.fromEntries(Object.entries({ 'bootstrap.servers': mm2.bootstrap, ...mm2.settings }).map(([k, v]) => [`${alias}.${k}`, v]));
    const mm2Properties = writeProperties({
      clusters: `${src}, ${dst}`,
      ...clientSettings(src),
      ...clientSettings(dst),
      [`${src}->${dst}.enabled`]: 'true',
      [`${src}->${dst}.topics`]: topic,
      [`${src}->${dst}.groups`]: group,
      // The proxy's policy decides who may do what; the brokers behind it have no ACLs to copy.
      'sync.topic.acls.enabled': 'false',
      'replication.factor': rf,
      'checkpoints.topic.replication.factor': rf,
      'heartbeats.topic.replication.factor': rf,
      'offset-syncs.topic.replication.factor': rf,
      'offset.storage.replication.factor': rf,
      'status.storage.replication.factor': rf,
      'config.storage.replication.factor': rf,
      // Seconds instead of MirrorMaker's minutes, so heartbeats and checkpoints show up quickly.
      'emit.heartbeats.interval.seconds': '1',
      'emit.checkpoints.interval.seconds': '1',
      'refresh.groups.interval.seconds': '1',
      'refresh.topics.interval.seconds': '5',
    });
    const mirrorMaker = await startKafkaTool(KAFKA_TOOLS.mirrorMaker, [mm2Properties], { classpath: javaLibsClasspath(), timeoutMs: 200_000 });
    const remote = `${src}.${topic}`;
    try {
      const replicated = () => Promise.race([recordCount(remote), mirrorMaker.result.then((r) => Promise.reject(new Error(`MirrorMaker exited with ${r.code}:\n${mirrorMaker.output().slice(-6000)}`)))]);
      await expect.poll(replicated, { timeout: 120_000, interval: 1000 }).toBe(MM2_RECORDS);
      expect(await readValues(remote, MM2_RECORDS)).toEqual([...values].sort());
      expect(await topicConfig(remote, retention.name)).toBe(retention.value);
      // Heartbeats: written on each alias, and the source's replicated to the target.
      await expect.poll(() => recordCount(`${src}.heartbeats`), { timeout: 30_000, interval: 1000 }).toBeGreaterThan(0);
      // Checkpoints: the group's source offsets translated for the target.
      await expect.poll(() => recordCount(`${src}.checkpoints.internal`), { timeout: 30_000, interval: 1000 }).toBeGreaterThan(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nMirrorMaker output:\n${mirrorMaker.output().slice(-8000)}`);
    } finally {
      await killKafkaTools();
    }
  }, 240_000);
}

describe('Kafka tools and MirrorMaker 2 through a transparent listener', () => {
  let proxy: TestProxy;
  let suite: Suite;

  beforeAll(async () => {
    proxy = await startTestProxy();
    const endpoint = { bootstrap: proxy.bootstrap, settings: {} };
    // Aliases of their own: MirrorMaker's group and internal topics stay apart from the enforce run's.
    suite = { cli: endpoint, mm2: endpoint, aliases: { source: 'plain-src', target: 'plain-dst' } };
  });

  afterAll(async () => {
    await killKafkaTools();
    await proxy?.stop();
  });

  parityTests(() => suite);
});

describe('Kafka tools and MirrorMaker 2 on an OAUTHBEARER listener enforcing the example policies', () => {
  const clients = Object.fromEntries(
    ['kafka-operator', 'mirrormaker2', 'intruder'].map((id) => [id, { secret: `${id}-secret`, subject: id, roles: [] as string[] }]),
  );
  let issuer: DevIssuer;
  let cliProxy: TestProxy;
  let mm2Proxy: TestProxy;
  let suite: Suite;
  const settings = (clientId: string) => javaOAuthSettings({ tokenUrl: issuer.tokenUrl, clientId, clientSecret: clients[clientId].secret });

  beforeAll(async () => {
    issuer = await startDevIssuer({ port: 0, clients, log: createLogger('silent') });
    cliProxy = await startTestProxy(oauthListener(issuer, { policy: CLI_POLICY }));
    mm2Proxy = await startTestProxy(oauthListener(issuer, { policy: MM2_POLICY }));
    suite = {
      cli: { bootstrap: cliProxy.bootstrap, settings: settings('kafka-operator') },
      mm2: { bootstrap: mm2Proxy.bootstrap, settings: settings('mirrormaker2') },
      aliases: { source: 'src', target: 'dst' },
    };
  });

  afterAll(async () => {
    await killKafkaTools();
    await Promise.all([cliProxy?.stop(), mm2Proxy?.stop()]);
    await issuer?.stop();
  });

  parityTests(() => suite);

  it('a principal without the grants gets an authorization error from kafka-topics at once', async () => {
    const started = Date.now();
    const result = await runKafkaTool(KAFKA_TOOLS.topics, [
      ...['--bootstrap-server', cliProxy.bootstrap, '--command-config', writeProperties(settings('intruder'))],
      ...['--create', '--topic', `ops-${shortId()}`, '--partitions', '1', '--replication-factor', String(replicationFactor())],
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Error while executing topic command : Authorization failed.');
    expect(result.stderr).toContain('org.apache.kafka.common.errors.TopicAuthorizationException');
    // Well inside the tool's own 60 s timeouts: refused, not retried until they run out.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

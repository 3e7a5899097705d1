import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { onParentExit } from '../scripts/kafka/exit-hooks.js';
import { resolveKafka } from '../scripts/kafka/resolve.js';
import { startAuthzProxy } from './authz-proxy.js';
import { ensureBuilt } from './build-dist.js';
import { runToEnd, spawnOwned } from './child-process.js';
import { treeCpuMs } from './process-tree.js';
import { startProxyProcess } from './proxy-process.js';

/** What one idle consumer's fetching cost over its idle window, on one path. */
export interface IdleFetchRound {
  path: string;
  fetchesPerSecond: number;
  /** The consumer's bytes sent and received per second (its own metrics: fetches, plus heartbeats). */
  bytesSentPerSecond: number;
  bytesReceivedPerSecond: number;
  /** CPU of the forwarding process per second of the window; undefined for direct. */
  forwarderCpuMsPerSecond: number | undefined;
}

export interface FetchSessionsResult {
  partitions: number;
  idleSeconds: number;
  rounds: number;
  /** Median per path, over the rounds. */
  paths: IdleFetchRound[];
  all: IdleFetchRound[];
}

const CONSUMER_SOURCE = fileURLToPath(new URL('IdleConsumer.java', import.meta.url));
const RUN_TIMEOUT_MS = 600_000;

interface Path {
  name: string;
  bootstrap: string;
  clientProperties: Record<string, string>;
  pid?: number;
}

/**
 * A consumer group of one Java consumer (kafka-clients, fetch sessions on, its defaults:
 * fetch.max.wait.ms 500) on a topic of `partitions` partitions, one record in each: it reads
 * them, then sits idle for `idleSeconds` while the bench measures its fetching, through
 * direct, the transparent proxy and the enforcing proxy (OAUTHBEARER, the 10,000-grant
 * policy), in alternating rounds, one broker.
 */
export async function runFetchSessionsBench(partitions: number, idleSeconds: number, rounds: number, log: (line: string) => void): Promise<FetchSessionsResult> {
  const workDir = await mkdtemp(join(tmpdir(), 'kafka-proxy-fetch-sessions-'));
  const unregister = onParentExit(() => rmSync(workDir, { recursive: true, force: true }));
  const stops: (() => Promise<void>)[] = [];
  try {
    await ensureBuilt(log);
    const dist = await resolveKafka(log);
    const classes = join(workDir, 'classes');
    await runToEnd('javac', ['-cp', dist.classpath, '-d', classes, CONSUMER_SOURCE], RUN_TIMEOUT_MS);
    const cluster = await startKafkaCluster({ brokers: 1, log });
    stops.push(() => cluster.stop());
    const broker = cluster.bootstrapServers[0];
    const proxy = await startProxyProcess(broker, workDir, { name: 'proxy' });
    stops.push(() => proxy.stop());
    const authz = await startAuthzProxy(broker, workDir, 1);
    stops.push(() => authz.stop());
    const paths: Path[] = [
      { name: 'direct', bootstrap: broker, clientProperties: {} },
      { name: 'proxy', bootstrap: proxy.bootstrap, clientProperties: {}, pid: proxy.pid },
      { name: 'proxy+authz', bootstrap: authz.proxy.bootstrap, clientProperties: authz.clientProperties, pid: authz.proxy.pid },
    ];
    const topic = `e2e-idle-${partitions}`;
    await createTopicWithOneRecordEach(broker, topic, partitions);
    log(`fetch-sessions: topic ${topic} with ${partitions} partitions, one record each; ${rounds} round(s) of ${idleSeconds} s idle per path`);
    const all: IdleFetchRound[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const path of paths) {
        const r = await idleRound(path, topic, `e2e-idle-${path.name.replace('+', '-')}-${round}-${Date.now()}`, partitions, idleSeconds, classes, dist.classpath, workDir);
        all.push(r);
        log(
          `  round ${round} ${path.name}: ${r.fetchesPerSecond.toFixed(2)} fetches/s, sent ${Math.round(r.bytesSentPerSecond)} B/s, received ${Math.round(r.bytesReceivedPerSecond)} B/s` +
            (r.forwarderCpuMsPerSecond === undefined ? '' : `, forwarder CPU ${r.forwarderCpuMsPerSecond.toFixed(2)} ms/s`),
        );
      }
    }
    const problems = [...proxy.problems.map((l) => `proxy: ${l}`), ...authz.proxy.problems.map((l) => `proxy+authz: ${l}`)];
    if (problems.length) throw new Error(`the proxies logged problems during the bench:\n${problems.slice(0, 10).join('\n')}`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {
      partitions,
      idleSeconds,
      rounds,
      all,
      paths: paths.map((p) => {
        const mine = all.filter((r) => r.path === p.name);
        return {
          path: p.name,
          fetchesPerSecond: median(mine.map((r) => r.fetchesPerSecond)),
          bytesSentPerSecond: median(mine.map((r) => r.bytesSentPerSecond)),
          bytesReceivedPerSecond: median(mine.map((r) => r.bytesReceivedPerSecond)),
          forwarderCpuMsPerSecond: p.pid === undefined ? undefined : median(mine.map((r) => r.forwarderCpuMsPerSecond!)),
        };
      }),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(workDir, { recursive: true, force: true });
    unregister();
  }
}

async function createTopicWithOneRecordEach(broker: string, topic: string, partitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-setup', brokers: [broker], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  // A new topic of many partitions takes the broker some seconds to lead them all: retry meanwhile.
  const producer = kafka.producer({ retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 2000 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: `record-${partition}` })) });
  } finally {
    await producer.disconnect();
  }
}

/** One consumer run on `path`: the forwarder's CPU is read when the consumer starts and ends its idle window. */
async function idleRound(path: Path, topic: string, group: string, partitions: number, idleSeconds: number, classes: string, classpath: string, workDir: string): Promise<IdleFetchRound> {
  const config = join(workDir, `${group}.properties`);
  await writeFile(config, Object.entries(path.clientProperties).map(([k, v]) => `${k}=${v}\n`).join(''));
  const child = spawnOwned('java', ['-Xmx512m', '-cp', `${classpath}:${classes}`, 'IdleConsumer', path.bootstrap, topic, group, String(partitions), String(idleSeconds), config]);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  let cpuAtStart: number | undefined;
  let cpuAtEnd: number | undefined;
  let summary: { fetches: number; bytesSent: number; bytesReceived: number; seconds: number } | undefined;
  const cpu = () => (path.pid === undefined ? undefined : treeCpuMs(path.pid)?.totalMs);
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line === 'idle-start') cpuAtStart = cpu();
    else if (line === 'idle-end') cpuAtEnd = cpu();
    else if (line.startsWith('{')) summary = JSON.parse(line) as typeof summary;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0 || summary === undefined) throw new Error(`IdleConsumer on ${path.name} exited with ${code}:\n${stderr}`);
  const s = summary.seconds;
  return {
    path: path.name,
    fetchesPerSecond: summary.fetches / s,
    bytesSentPerSecond: summary.bytesSent / s,
    bytesReceivedPerSecond: summary.bytesReceived / s,
    forwarderCpuMsPerSecond: cpuAtStart === undefined || cpuAtEnd === undefined ? undefined : (cpuAtEnd - cpuAtStart) / s,
  };
}

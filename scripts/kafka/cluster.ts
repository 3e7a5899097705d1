import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { classSharingFlags } from './cds.js';
import { onParentExit } from './exit-hooks.js';
import { KafkaNode } from './node.js';
import { listenerProperties, newClusterId, writeNodeConfig, type ExtraListener, type NodeSpec, type SslListener } from './node-config.js';
import { LOOPBACK, pickFreePorts } from './ports.js';
import { waitForBrokers } from './ready.js';
import { resolveKafka } from './resolve.js';

export interface KafkaBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface KafkaCluster {
  /** "127.0.0.1:port" of every broker, in node id order. */
  bootstrapServers: string[];
  brokers: KafkaBroker[];
  /** Per SSL listener name (StartKafkaClusterOptions.sslListeners): "127.0.0.1:port" of every broker, in node id order. Empty without SSL listeners. */
  sslBootstrapServers: Record<string, string[]>;
  /** Holds node-<id>/ with server.properties, data/, server.log and stdout.log. */
  dataDir: string;
  /** Stops one node: controlled shutdown, or SIGKILL (a crash) with `kill`. Data and ports are kept. */
  stopBroker(nodeId: number, opts?: { kill?: boolean }): Promise<void>;
  /** Restarts a stopped node and waits until clients see it again. No-op if it runs. */
  startBroker(nodeId: number): Promise<void>;
  /** Kills every node (SIGKILL) and, unless baseDir was given, removes dataDir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartKafkaClusterOptions {
  /** 1 or 3 in practice; every node is a KRaft broker and controller. */
  brokers: number;
  /** Keep node dirs here (wiped at start, kept after stop) instead of a temp dir. */
  baseDir?: string;
  log?: (line: string) => void;
  /** Extra server.properties entries for every node; they win over the defaults. */
  serverProperties?: Record<string, string>;
  /**
   * The port a broker tells clients to use instead of its own, for tests that put a relay in
   * front of each broker; called once per node before it starts.
   */
  advertisedPort?: (broker: KafkaBroker) => number | Promise<number>;
  /**
   * More plaintext listeners per node, called once per node before it starts. Metadata answers
   * advertise the listener a client came in on, so one listener's clients can be kept behind a
   * relay while PLAINTEXT's go straight to the broker.
   */
  extraListeners?: (broker: KafkaBroker) => ExtraListener[] | Promise<ExtraListener[]>;
  /**
   * TLS listeners for clients (security protocol SSL) per node, besides PLAINTEXT, which stays
   * the brokers' own listener and the one `bootstrapServers` and `brokers` name; called once per
   * node before it starts. Ports are picked here; each listener advertises its own port unless
   * `advertise` names another SSL listener of the node whose port it should advertise instead.
   */
  sslListeners?: (broker: KafkaBroker) => SslListenerOptions[] | Promise<SslListenerOptions[]>;
}

/** What a test gives for one SSL listener: its name and key material (see SslListener). */
export type SslListenerOptions = Omit<SslListener, 'port' | 'advertisedPort'> & { advertise?: string };

const STARTUP_TIMEOUT_MS = 90_000;
const RESTART_TIMEOUT_MS = 60_000;
const GRACEFUL_STOP_MS = 30_000;

export async function startKafkaCluster(opts: StartKafkaClusterOptions): Promise<KafkaCluster> {
  const log = opts.log ?? (() => {});
  if (!Number.isInteger(opts.brokers) || opts.brokers < 1) throw new Error(`brokers must be a positive integer, got ${opts.brokers}`);
  const dist = await resolveKafka(log);
  const jvmFlags = await classSharingFlags(dist, log);

  const started = Date.now();
  const deadline = started + STARTUP_TIMEOUT_MS;
  const keepData = opts.baseDir !== undefined;
  const dataDir =
    opts.baseDir !== undefined ? await prepareBaseDir(resolve(opts.baseDir)) : await mkdtemp(join(tmpdir(), 'kafka-harness-'));
  const ports = await pickFreePorts(opts.brokers * 2);
  const specs: NodeSpec[] = Array.from({ length: opts.brokers }, (_, i) => ({
    nodeId: i + 1,
    port: ports[2 * i],
    controllerPort: ports[2 * i + 1],
    dir: join(dataDir, `node-${i + 1}`),
  }));
  const nodes = specs.map((spec) => new KafkaNode(spec, dist.classpath, jvmFlags));
  const unregisterExitHook = onParentExit(() => {
    nodes.forEach((node) => node.killNow());
    // Retries cover files a just-killed JVM is still closing.
    if (!keepData) rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // SIGKILL: with every node going down there is no controller left to complete a
      // controlled shutdown (it just times out), and the data is never reused.
      await Promise.all(nodes.map((node) => node.stop(0)));
      if (!keepData) await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
      unregisterExitHook();
    })());
  const nodeById = (nodeId: number): KafkaNode => {
    const node = nodes.find((n) => n.spec.nodeId === nodeId);
    if (!node) throw new Error(`no Kafka node ${nodeId}; nodes are 1..${nodes.length}`);
    return node;
  };

  let sslByNode = new Map<number, SslListener[]>();
  try {
    log(`kafka: starting ${opts.brokers} KRaft node(s) of Kafka ${dist.version} in ${dataDir}`);
    const clusterId = newClusterId();
    sslByNode = await sslListenersOf(specs, ports, opts);
    await Promise.all(specs.map(async (spec) => writeNodeConfig(spec, specs, await nodeOverrides(spec, opts, sslByNode.get(spec.nodeId) ?? []))));
    await Promise.all(nodes.map((node) => node.format(clusterId)));
    await Promise.all(nodes.map((node) => node.start(deadline)));
    await awaitVisible(nodes, nodes, deadline);
    log(`kafka: ${opts.brokers} node(s) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    bootstrapServers: specs.map(address),
    brokers: specs.map((spec) => ({ nodeId: spec.nodeId, host: LOOPBACK, port: spec.port })),
    sslBootstrapServers: sslBootstrapServers(specs, sslByNode),
    dataDir,
    stop,
    async stopBroker(nodeId, stopOpts) {
      await nodeById(nodeId).stop(stopOpts?.kill ? 0 : GRACEFUL_STOP_MS);
      log(`kafka: node ${nodeId} stopped`);
    },
    async startBroker(nodeId) {
      const node = nodeById(nodeId);
      if (node.running) return;
      const restartDeadline = Date.now() + RESTART_TIMEOUT_MS;
      await node.start(restartDeadline);
      await awaitVisible([node], nodes, restartDeadline);
      log(`kafka: node ${nodeId} restarted`);
    },
  };
}

/** Waits until a client sees every node in `expected`, asking through whichever nodes are running. */
async function awaitVisible(expected: KafkaNode[], all: KafkaNode[], deadline: number): Promise<void> {
  const bootstrap = all.filter((n) => n.running).map((n) => address(n.spec));
  const missing = await waitForBrokers(bootstrap, expected.map((n) => n.spec.nodeId), deadline);
  if (missing.length === 0) return;
  const reports = await Promise.all(
    expected
      .filter((n) => missing.includes(n.spec.nodeId))
      .map(async (n) => (await n.failure('started but is not listed in cluster metadata')).message),
  );
  throw new Error(reports.join('\n\n'));
}

async function nodeOverrides(spec: NodeSpec, opts: StartKafkaClusterOptions, ssl: SslListener[]): Promise<Record<string, string>> {
  if (!opts.advertisedPort && !opts.extraListeners && ssl.length === 0) return opts.serverProperties ?? {};
  const broker = { nodeId: spec.nodeId, host: LOOPBACK, port: spec.port };
  const advertisedPort = opts.advertisedPort ? await opts.advertisedPort(broker) : spec.port;
  const extra = opts.extraListeners ? await opts.extraListeners(broker) : [];
  return { ...opts.serverProperties, ...listenerProperties(spec, advertisedPort, extra, ssl) };
}

/** Each node's SSL listeners, with ports picked apart from the ones already `taken`. */
async function sslListenersOf(specs: NodeSpec[], taken: number[], opts: StartKafkaClusterOptions): Promise<Map<number, SslListener[]>> {
  const byNode = new Map<number, SslListener[]>();
  if (!opts.sslListeners) return byNode;
  const wanted = await Promise.all(specs.map((spec) => opts.sslListeners!({ nodeId: spec.nodeId, host: LOOPBACK, port: spec.port })));
  const count = wanted.reduce((n, listeners) => n + listeners.length, 0);
  const free = (await pickFreePorts(count + taken.length)).filter((p) => !taken.includes(p)).slice(0, count);
  specs.forEach((spec, i) => {
    const listeners = wanted[i].map(({ advertise: _, ...l }) => ({ ...l, port: free.shift()!, advertisedPort: 0 }));
    for (const [j, l] of listeners.entries()) {
      const advertise = wanted[i][j].advertise ?? l.name;
      const target = listeners.find((other) => other.name === advertise);
      if (!target) throw new Error(`SSL listener ${l.name} of node ${spec.nodeId} advertises unknown listener ${advertise}`);
      l.advertisedPort = target.port;
    }
    byNode.set(spec.nodeId, listeners);
  });
  return byNode;
}

function sslBootstrapServers(specs: NodeSpec[], byNode: Map<number, SslListener[]>): Record<string, string[]> {
  const servers: Record<string, string[]> = {};
  for (const spec of specs) {
    for (const l of byNode.get(spec.nodeId) ?? []) (servers[l.name] ??= []).push(`${LOOPBACK}:${l.port}`);
  }
  return servers;
}

function address(spec: NodeSpec): string {
  return `${LOOPBACK}:${spec.port}`;
}

async function prepareBaseDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  // A fresh cluster id is formatted on every start, so old node dirs cannot be reused.
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('node-')) await rm(join(dir, entry), { recursive: true, force: true });
  }
  return dir;
}

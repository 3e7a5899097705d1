import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { onParentExit } from '../scripts/kafka/exit-hooks.js';
import { LOOPBACK, pickFreePorts } from '../scripts/kafka/ports.js';
import { ensureBuilt } from './build-dist.js';
import { type ProxyProcess, startProxyProcess } from './proxy-process.js';
import { type RelayProcess, startRelayProcess } from './relay-process.js';
import { TopicMaker } from './topics.js';

export interface RelayProxyEnv {
  workDir: string;
  /** The broker's own "host:port". */
  broker: string;
  relay: RelayProcess;
  proxy: ProxyProcess;
  /** Creates topics at the broker itself. */
  topics: TopicMaker;
}

/**
 * One Kafka broker with the bare TCP relay in front of it (a listener of the broker's own that
 * advertises the relay, so clients come back through it) and the proxy (transparent, one
 * worker), both started with `nodeArgs`: the benches that set the relay and the proxy side by
 * side run `body` in it. Everything is stopped and the work dir removed once `body` settles;
 * a proxy that logged problems fails the run.
 */
export async function withRelayAndProxy<T>(name: string, log: (line: string) => void, nodeArgs: string[], body: (env: RelayProxyEnv) => Promise<T>): Promise<T> {
  const workDir = await mkdtemp(join(tmpdir(), `kafka-proxy-${name}-`));
  const unregister = onParentExit(() => rmSync(workDir, { recursive: true, force: true }));
  const stops: (() => Promise<void>)[] = [];
  try {
    await ensureBuilt(log);
    const [relayListenerPort] = await pickFreePorts(1);
    const relay = await startRelayProcess(LOOPBACK, relayListenerPort, nodeArgs);
    stops.push(() => relay.stop());
    const cluster = await startKafkaCluster({ brokers: 1, log, extraListeners: () => [{ name: 'RELAY', port: relayListenerPort, advertisedPort: relay.port }] });
    stops.push(() => cluster.stop());
    const broker = cluster.bootstrapServers[0];
    const proxy = await startProxyProcess(broker, workDir, { name, nodeArgs });
    stops.push(() => proxy.stop());
    const topics = await TopicMaker.connect(broker);
    stops.push(() => topics.close());
    const result = await body({ workDir, broker, relay, proxy, topics });
    if (proxy.problems.length) throw new Error(`the proxy logged problems:\n${proxy.problems.slice(0, 10).join('\n')}`);
    return result;
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(workDir, { recursive: true, force: true });
    unregister();
  }
}

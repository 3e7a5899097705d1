import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  type ConsumeResult,
  type DescribeResult,
  type InteropRunOptions,
  type ProduceResult,
  runGoClient,
  runJavaClient,
  runPythonClient,
} from '../support/interop-clients.js';
import { createTopic } from './helpers/topics.js';

type RunClient = <T>(args: string[], opts?: InteropRunOptions) => Promise<T>;

const { bootstrapServers, brokers } = inject('kafka');
const bootstrap = bootstrapServers.join(',');
const realBrokers = brokers.map((b) => `${b.host}:${b.port}`).sort();
const allPartitions = [0, 1, 2, 3, 4, 5];

const clients: [string, RunClient][] = [
  ['java', runJavaClient],
  ['python', runPythonClient],
  ['go', runGoClient],
];

/** The interop clients straight against the brokers: proves the tooling the proxy tests reuse. */
describe.each(clients)('%s interop client, no proxy', (name, run) => {
  it('produces 100 records over 6 partitions and consumes them back with a group', async () => {
    const topic = `interop-${name}-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 6, replicationFactor: 3 });

    expect(await run<ProduceResult>(['produce', bootstrap, topic, '100'])).toEqual({ produced: 100, partitions: allPartitions });
    expect(await run<ConsumeResult>(['consume', bootstrap, topic, `${topic}-group`, '100'])).toEqual({
      consumed: 100,
      partitions: allPartitions,
    });
  });

  it('describes the cluster with the real brokers as every address', async () => {
    const described = await run<DescribeResult>(['describe', bootstrap]);
    expect(described.nodes).toEqual(realBrokers);
    expect(described.addresses).toEqual(realBrokers);
    expect(realBrokers).toContain(described.controller);
    expect(realBrokers).toContain(described.coordinator);
    expect(described.leaders.length).toBeGreaterThan(0);
  });
});

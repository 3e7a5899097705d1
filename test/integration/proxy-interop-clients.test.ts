import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
import { type TestProxy, startTestProxy } from './helpers/proxy.js';

type RunClient = <T>(args: string[], opts?: InteropRunOptions) => Promise<T>;

const clients: [string, RunClient][] = [
  ['java', runJavaClient],
  ['python (librdkafka)', runPythonClient],
  ['go (franz-go)', runGoClient],
];
const allPartitions = [0, 1, 2, 3, 4, 5];
const realAddresses = new Set(inject('kafka').brokers.map((b) => `${b.host}:${b.port}`));

/**
 * Java (Fetch v17 topic ids, flexible versions), librdkafka and franz-go, given only the
 * proxy's bootstrap address: they produce, consume with a group, and never see a real broker.
 */
describe('non-JS clients through the proxy', () => {
  let tp: TestProxy;
  let proxyAddresses: Set<string>;

  beforeAll(async () => {
    tp = await startTestProxy();
    proxyAddresses = new Set([tp.bootstrap, ...[...tp.brokerPorts.values()].map((p) => `127.0.0.1:${p}`)]);
  });

  afterAll(async () => {
    await tp?.stop();
  });

  describe.each(clients)('%s', (name, run) => {
    it('produces over 6 partitions on 3 brokers and consumes everything back with a group', async () => {
      const topic = `proxy-interop-${name.split(' ')[0]}-${randomUUID().slice(0, 8)}`;
      await createTopic({ topic, numPartitions: 6, replicationFactor: 3 });
      expect(await run<ProduceResult>(['produce', tp.bootstrap, topic, '100'])).toEqual({ produced: 100, partitions: allPartitions });
      const consumed = await run<ConsumeResult>(['consume', tp.bootstrap, topic, `${topic}-group`, '100']);
      expect(consumed.consumed).toBeGreaterThanOrEqual(100);
      expect(consumed.partitions).toEqual(allPartitions);
    });

    it('sees only proxy addresses for brokers, controller, coordinator and leaders', async () => {
      const described = await run<DescribeResult>(['describe', tp.bootstrap]);
      expect(described.nodes).toHaveLength(3);
      for (const address of described.addresses) {
        expect(proxyAddresses.has(address), `${name} saw ${address}`).toBe(true);
        expect(realAddresses.has(address)).toBe(false);
      }
    });
  });
});

import type { TestProject } from 'vitest/node';
import { startKafkaCluster } from '../../scripts/kafka/cluster.js';
import { startControlServer } from './helpers/control-server.js';

// One real 3-broker KRaft cluster for the whole integration run.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startKafkaCluster({ brokers: 3, log: (line) => console.log(line) });
  const control = await startControlServer(cluster).catch(async (err: unknown) => {
    await cluster.stop();
    throw err;
  });
  project.provide('kafka', {
    bootstrapServers: cluster.bootstrapServers,
    brokers: cluster.brokers,
    controlUrl: control.url,
  });
  return async () => {
    try {
      await control.close();
    } finally {
      await cluster.stop();
    }
  };
}

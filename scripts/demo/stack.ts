import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { startKafkaCluster } from '../kafka/cluster.js';
import { LOOPBACK, pickFreePorts } from '../kafka/ports.js';
import { loadConfig } from '../../src/config/load.js';
import { startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { type Logger, createLogger } from '../../src/observe/logger.js';
import { KafkaAuthProxy } from '../../src/proxy/proxy.js';
import type { ClientSetup } from './demo-client.js';
import { type DemoFiles, writeDemoFiles } from './demo-files.js';
import { TOPICS, demoClients } from './demo-policy.js';
import type { Teardown } from './teardown.js';
import { createTopics } from './topics.js';

export interface DemoStack extends DemoFiles {
  proxyLogPath: string;
  issuerLogPath: string;
  client: ClientSetup;
}

/**
 * Starts Kafka, the dev token issuer and the proxy, in that order, registering each with
 * `teardown` as soon as it runs, so an error or Ctrl-C halfway stops what was started.
 */
export async function startStack(dir: string, teardown: Teardown, say: (line: string) => void): Promise<DemoStack> {
  say('• Kafka 3.9, one KRaft node (the first run downloads the Kafka jars from Maven Central, ~100 MB; give it a few minutes)');
  const cluster = await startKafkaCluster({ brokers: 1, log: (line) => say(`    ${line}`) });
  teardown.add('Kafka', () => cluster.stop());
  await createTopics(cluster.bootstrapServers, Object.values(TOPICS));
  say(`• topics "${TOPICS.orders}" and "${TOPICS.payments}" created on the broker (${cluster.bootstrapServers.join(', ')})`);

  const issuerLogPath = join(dir, 'issuer.log');
  const clients = demoClients();
  const issuer = await startDevIssuer({ port: 0, clients, log: fileLogger(issuerLogPath, teardown) });
  teardown.add('token issuer', () => issuer.stop());
  say(`• development token issuer at ${issuer.url} (DEVELOPMENT ONLY: it signs tokens for anyone)`);

  const [bootstrapPort, brokerPort] = await pickFreePorts(2);
  const files = await writeDemoFiles(dir, {
    bootstrapServers: cluster.bootstrapServers,
    bootstrapPort,
    brokerPorts: Object.fromEntries(cluster.brokers.map((b) => [String(b.nodeId), brokerPort])),
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
  });
  const proxyLogPath = join(dir, 'proxy.log');
  const proxy = await KafkaAuthProxy.start(loadConfig(files.configPath), fileLogger(proxyLogPath, teardown));
  teardown.add('proxy', () => proxy.stop(1_000));
  const bootstrap = `${LOOPBACK}:${bootstrapPort}`;
  say(`• kafka-auth-proxy on ${bootstrap}: OAUTHBEARER, mode enforce, policy ${files.policyPath}`);

  return { ...files, proxyLogPath, issuerLogPath, client: { bootstrap, tokenUrl: issuer.tokenUrl, clients } };
}

/** A logger writing JSON lines to `path`; the teardown flushes and closes the file. */
function fileLogger(path: string, teardown: Teardown): Logger {
  const stream = createWriteStream(path);
  teardown.add(path, async () => {
    stream.end();
    await once(stream, 'finish');
  });
  return createLogger('info', stream);
}

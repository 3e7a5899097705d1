import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KafkaCluster } from '../../../scripts/kafka/cluster.js';

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

const ROUTE = /^\/brokers\/(\d+)\/(stop|start)(\?kill=1)?$/;

/**
 * The cluster object lives in the globalSetup process while tests run in workers;
 * this loopback endpoint lets failover tests stop and restart brokers:
 *   POST /brokers/:id/stop[?kill=1]   controlled shutdown, or SIGKILL with kill=1
 *   POST /brokers/:id/start           restart and wait until clients see it
 */
export async function startControlServer(cluster: KafkaCluster): Promise<ControlServer> {
  const server = createServer((req, res) => void handle(cluster, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function handle(cluster: KafkaCluster, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = req.method === 'POST' ? ROUTE.exec(req.url ?? '') : null;
  if (!match) {
    res.writeHead(404).end(`unknown control request ${req.method} ${req.url}\n`);
    return;
  }
  const [, id, action, kill] = match;
  try {
    if (action === 'stop') await cluster.stopBroker(Number(id), { kill: kill !== undefined });
    else await cluster.startBroker(Number(id));
    res.writeHead(204).end();
  } catch (err) {
    res.writeHead(500).end(err instanceof Error ? err.message : String(err));
  }
}

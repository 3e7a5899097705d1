import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import type { Configuration } from '../e2e-env.js';
import { treeRssBytes } from '../process-tree.js';

/** A forwarder's memory: idle, and per idle client connection that has made one request. */
export interface IdleMemory {
  path: string;
  /** RSS of the forwarder (all its processes) before any client. */
  idleRssMiB: number;
  /** RSS growth per open idle connection, in bytes. */
  bytesPerConnection: number;
  connections: number;
}

/** In flight at once while opening, so a forwarder is not measured under a connection storm. */
const OPENING_IN_FLIGHT = 50;
/** Time for the forwarder to settle (allocations, GC) before RSS is read. */
const SETTLE_MS = 3_000;

/**
 * For each path with a forwarder: its RSS, then `connections` client connections each sending one
 * ApiVersions request and reading the answer (so the forwarder holds its broker connection as
 * well), left open and idle; the RSS growth per connection. Plaintext, no authentication.
 */
export async function measureIdleMemory(configurations: Configuration[], connections: number, log: (line: string) => void): Promise<IdleMemory[]> {
  const out: IdleMemory[] = [];
  for (const config of configurations) {
    if (config.forwarderPid === undefined) continue;
    const pid = config.forwarderPid;
    await sleep(SETTLE_MS);
    const before = treeRssBytes(pid);
    const [host, port] = config.bootstrap.split(':');
    const open: KafkaConnection[] = [];
    try {
      for (let i = 0; i < connections; i += OPENING_IN_FLIGHT) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(OPENING_IN_FLIGHT, connections - i) }, async () => {
            const conn = await KafkaConnection.connect(host, Number(port));
            await conn.request(API_KEYS.ApiVersions, 3, { clientSoftwareName: 'bench', clientSoftwareVersion: '1' });
            return conn;
          }),
        );
        open.push(...batch);
      }
      await sleep(SETTLE_MS);
      const after = treeRssBytes(pid);
      const result = { path: config.name, idleRssMiB: before / 2 ** 20, bytesPerConnection: (after - before) / connections, connections };
      log(`peers: ${config.name} idle RSS ${result.idleRssMiB.toFixed(0)} MiB, ${Math.round(result.bytesPerConnection / 1024)} KiB per idle connection (${connections})`);
      out.push(result);
    } finally {
      for (const conn of open) conn.close();
    }
  }
  return out;
}

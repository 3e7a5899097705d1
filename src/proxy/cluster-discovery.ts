import type { Logger } from 'pino';
import { API_KEYS } from '../protocol/generated/apis.js';
import type { ApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import { defaultMetadataRequest } from '../protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../protocol/generated/messages/MetadataResponse.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import { KafkaConnection } from './kafka-connection.js';

/** Versions every broker from Kafka 2.4 to 4.x serves. */
const API_VERSIONS_VERSION = 3;
const METADATA_VERSION = 9;

export function parseHostPort(server: string): BrokerAddress {
  const i = server.lastIndexOf(':');
  return { host: server.slice(0, i), port: Number(server.slice(i + 1)) };
}

/**
 * Asks the cluster for its brokers and API versions through the first bootstrap server that
 * answers, and records them in `cluster`. Throws, naming every server tried, when none does.
 */
export async function discoverCluster(bootstrapServers: string[], cluster: ClusterView, timeoutMs: number): Promise<void> {
  const failures: string[] = [];
  for (const server of bootstrapServers) {
    const { host, port } = parseHostPort(server);
    let conn: KafkaConnection | undefined;
    try {
      conn = await KafkaConnection.connect(host, port, timeoutMs);
      conn.requestTimeoutMs = timeoutMs;
      const versions = await conn.request<ApiVersionsResponse>(API_KEYS.ApiVersions, API_VERSIONS_VERSION, {
        clientSoftwareName: 'kafka-auth-proxy',
        clientSoftwareVersion: '0.1.0',
      });
      if (versions.body.errorCode !== 0) throw new Error(`ApiVersions error ${versions.body.errorCode}`);
      const metadata = await conn.request<MetadataResponse>(API_KEYS.Metadata, METADATA_VERSION, { ...defaultMetadataRequest(), topics: [] });
      cluster.apiVersions = versions.body.apiKeys;
      cluster.update(metadata.body.brokers);
      return;
    } catch (e) {
      failures.push(`${server}: ${(e as Error).message}`);
    } finally {
      conn?.close();
    }
  }
  throw new Error(`no bootstrap server answered (${failures.join('; ')})`);
}

/** Re-reads the broker table periodically so new brokers get their proxy ports. */
export function refreshPeriodically(bootstrapServers: string[], cluster: ClusterView, everyMs: number, timeoutMs: number, log: Logger): () => void {
  const timer = setInterval(() => {
    discoverCluster(bootstrapServers, cluster, timeoutMs).catch((e: Error) => log.warn({ err: e.message }, 'metadata refresh failed'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

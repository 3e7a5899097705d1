import type { Logger } from 'pino';
import { API_KEYS } from '../protocol/generated/apis.js';
import type { ApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import { defaultMetadataRequest } from '../protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../protocol/generated/messages/MetadataResponse.js';
import type { BrokerDialer } from './broker-dialer.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import { KafkaConnection } from './kafka-connection.js';
import type { TopicIdEntry } from './topic-ids.js';

/** Versions every broker from Kafka 2.8 to 4.x serves. */
const API_VERSIONS_VERSION = 3;
/** Version 10 is the first to carry topic ids. */
const METADATA_VERSION = 10;

export function parseHostPort(server: string): BrokerAddress {
  const i = server.lastIndexOf(':');
  return { host: server.slice(0, i), port: Number(server.slice(i + 1)) };
}

/** Told of each bootstrap server the proxy could not connect to (refused, timed out, TLS failed), for metrics. */
export type ConnectFailed = () => void;

/** Runs `fn` on a connection to the first bootstrap server that answers; throws naming every server tried when none does. */
async function withBootstrapServer<T>(
  bootstrapServers: string[],
  timeoutMs: number,
  dialer: BrokerDialer,
  connectFailed: ConnectFailed,
  fn: (conn: KafkaConnection) => Promise<T>,
): Promise<T> {
  const failures: string[] = [];
  for (const server of bootstrapServers) {
    const { host, port } = parseHostPort(server);
    let conn: KafkaConnection | undefined;
    try {
      try {
        conn = await KafkaConnection.connect(host, port, timeoutMs, dialer);
      } catch (e) {
        connectFailed();
        throw e;
      }
      conn.requestTimeoutMs = timeoutMs;
      return await fn(conn);
    } catch (e) {
      failures.push(`${server}: ${(e as Error).message}`);
    } finally {
      conn?.close();
    }
  }
  throw new Error(`no bootstrap server answered (${failures.join('; ')})`);
}

/** Asks the cluster for its brokers and API versions and records them in `cluster`. */
export async function discoverCluster(
  bootstrapServers: string[],
  cluster: ClusterView,
  timeoutMs: number,
  dialer: BrokerDialer,
  connectFailed: ConnectFailed,
): Promise<void> {
  await withBootstrapServer(bootstrapServers, timeoutMs, dialer, connectFailed, async (conn) => {
    const versions = await conn.request<ApiVersionsResponse>(API_KEYS.ApiVersions, API_VERSIONS_VERSION, {
      clientSoftwareName: 'kafka-auth-proxy',
      clientSoftwareVersion: '0.1.0',
    });
    if (versions.body.errorCode !== 0) throw new Error(`ApiVersions error ${versions.body.errorCode}`);
    const metadata = await conn.request<MetadataResponse>(API_KEYS.Metadata, METADATA_VERSION, { ...defaultMetadataRequest(), topics: [] });
    cluster.apiVersions = versions.body.apiKeys;
    cluster.update(metadata.body.brokers);
  });
}

/** Every topic's id and name (Metadata v10+ carries ids; Kafka 2.8 and later serve it). */
export function listTopicIds(bootstrapServers: string[], timeoutMs: number, dialer: BrokerDialer, connectFailed: ConnectFailed): Promise<TopicIdEntry[]> {
  return withBootstrapServer(bootstrapServers, timeoutMs, dialer, connectFailed, async (conn) => {
    const metadata = await conn.request<MetadataResponse>(API_KEYS.Metadata, METADATA_VERSION, {
      ...defaultMetadataRequest(),
      topics: null,
      allowAutoTopicCreation: false,
    });
    return metadata.body.topics.filter((t) => t.errorCode === 0);
  });
}

/** Re-reads the broker table periodically so new brokers get their proxy ports. */
export function refreshPeriodically(
  bootstrapServers: string[],
  cluster: ClusterView,
  everyMs: number,
  /** Read at each refresh: a reload may change it. */
  limits: { connectTimeoutMs: number },
  log: Logger,
  dialer: BrokerDialer,
  connectFailed: ConnectFailed,
): () => void {
  const timer = setInterval(() => {
    discoverCluster(bootstrapServers, cluster, limits.connectTimeoutMs, dialer, connectFailed).catch((e: Error) => log.warn({ err: e.message }, 'metadata refresh failed'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

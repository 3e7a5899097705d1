import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { LOOPBACK, pickFreePortBase } from '../scripts/kafka/ports.js';
import { startDevIssuer } from '../src/dev-issuer/issuer.js';
import { createLogger } from '../src/observe/logger.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../src/protocol/generated/messages/MetadataRequest.js';
import type { SaslAuthenticateResponse } from '../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import { KafkaConnection } from '../src/proxy/kafka-connection.js';
import { CLI_PATH, ensureBuilt } from './build-dist.js';
import { spawnOwned } from './child-process.js';

export interface IdleConnectionsResult {
  connections: number;
  /** New authenticated connections per second while opening them (OAUTHBEARER RS256, 100 in flight). */
  connectionsPerSecond: number;
  proxyRssBeforeMiB: number;
  proxyRssAfterMiB: number;
  bytesPerConnection: number;
}

/** The proxy holds one socket per idle client (its broker connection opens with the first request), the bench one more: under 20,000 open files each. */
const DEFAULT_CONNECTIONS = 10_000;
const BATCH = 100;

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** One authenticated connection: the full SASL handshake, then nothing (an idle client). */
async function openAuthenticated(port: number, token: string): Promise<KafkaConnection> {
  const conn = await KafkaConnection.connect(LOOPBACK, port);
  await conn.request(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
  const auth = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`) });
  if (auth.body.errorCode !== 0) throw new Error(`authentication failed: ${auth.body.errorMessage}`);
  return conn;
}

/** A first request, so the proxy opens this connection's broker connection (the warm-up clients). */
async function openWithBroker(port: number, token: string): Promise<KafkaConnection> {
  const conn = await openAuthenticated(port, token);
  await conn.request(API_KEYS.Metadata, 9, { ...defaultMetadataRequest(), topics: [] });
  return conn;
}

/**
 * Memory the proxy (`node dist/cli.js`, OAUTHBEARER listener, one Kafka 3.9 broker) holds per
 * idle authenticated connection: its resident set before and after `connections` clients have
 * authenticated, divided by their number; and how fast they connected (the connection storm).
 */
export async function runIdleConnectionsBench(progress: (line: string) => void, connections = DEFAULT_CONNECTIONS): Promise<IdleConnectionsResult> {
  await ensureBuilt(progress);
  const workDir = await mkdtemp(join(tmpdir(), 'idle-bench-'));
  const cluster = await startKafkaCluster({ brokers: 1, log: progress });
  const issuer = await startDevIssuer({ port: 0, log: createLogger('silent') });
  const clients: KafkaConnection[] = [];
  let stopProxy = () => {};
  try {
    const base = await pickFreePortBase([0, 1]);
    const configFile = join(workDir, 'proxy.yaml');
    await writeFile(
      configFile,
      stringify({
        upstream: { bootstrapServers: cluster.bootstrapServers },
        listeners: [{ name: 'bench', bind: LOOPBACK, port: base, advertisedHost: LOOPBACK, brokerPorts: { base }, authentication: ['OAUTHBEARER'] }],
        oauthbearer: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'] },
        logging: { level: 'warn' },
      }),
    );
    const child = spawnOwned(process.execPath, [CLI_PATH, '--config', configFile]);
    stopProxy = () => child.kill('SIGKILL');
    createInterface({ input: child.stderr }).on('line', (l) => progress(`proxy: ${l}`));
    await waitForPort(base + 1);
    const token = await issuer.mint({ subject: 'svc-idle', expiresInSeconds: 3600 });
    for (let i = 0; i < 50; i++) clients.push(await openWithBroker(base + 1, token));
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssBytes(child.pid!);
    progress(`idle: opening ${connections} authenticated connections ...`);
    const started = process.hrtime.bigint();
    while (clients.length < connections + 50) {
      const batch = Math.min(BATCH, connections + 50 - clients.length);
      clients.push(...(await Promise.all(Array.from({ length: batch }, () => openAuthenticated(base + 1, token)))));
      if (clients.length % 1000 < BATCH) progress(`idle: ${clients.length - 50} open`);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await new Promise((r) => setTimeout(r, 3000));
    const after = rssBytes(child.pid!);
    return {
      connections,
      connectionsPerSecond: Math.round(connections / seconds),
      proxyRssBeforeMiB: Math.round(before / 2 ** 20),
      proxyRssAfterMiB: Math.round(after / 2 ** 20),
      bytesPerConnection: Math.round((after - before) / connections),
    };
  } finally {
    for (const c of clients) c.close();
    stopProxy();
    await issuer.stop();
    await cluster.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      (await KafkaConnection.connect(LOOPBACK, port, 1000)).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the proxy did not open port ${port}`);
}

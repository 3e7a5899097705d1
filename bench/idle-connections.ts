import { readFileSync, readdirSync } from 'node:fs';
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
import { KafkaConnection } from '../src/proxy/kafka-connection.js';
import { CLI_PATH, PROXY_NODE_FLAGS, ensureBuilt } from './build-dist.js';
import { spawnOwned } from './child-process.js';
import { authenticate, oauthBearerMessage } from './sasl-client.js';
import { mskIamPayload } from './sasl-handshakes.js';

export interface IdleConnectionsResult {
  connections: number;
  /** New authenticated connections per second while opening them (OAUTHBEARER RS256, 100 in flight). */
  connectionsPerSecond: number;
  /** The same storm with AWS_MSK_IAM (SigV4 payloads signed before the storm), after the OAUTHBEARER clients have gone. */
  awsConnectionsPerSecond: number;
  proxyRssBeforeMiB: number;
  proxyRssAfterMiB: number;
  bytesPerConnection: number;
}

/** The proxy holds one socket per idle client (its broker connection opens with the first request), the bench one more: under 20,000 open files each. */
const DEFAULT_CONNECTIONS = 10_000;
/** Handshakes in progress at once during a storm. */
const IN_FLIGHT = 100;

/** Sockets and files the process holds open. */
function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Waits until the proxy has let go of the connections the bench closed, so the next storm does not share the CPU with their teardown. */
async function waitForClosed(pid: number, openFilesBefore: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (openFiles(pid) > openFilesBefore) {
    if (Date.now() > deadline) throw new Error(`the proxy still holds ${openFiles(pid) - openFilesBefore} closed connections after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

const AWS_KEY = 'AKIAIDLEBENCH0001';
const AWS_SECRET = 'idle-bench-secret-0001/abcdefgh';

/** One authenticated connection: the full SASL handshake, then nothing (an idle client). */
async function openAuthenticated(port: number, token: string, mechanism = 'OAUTHBEARER', authBytes: Buffer = oauthBearerMessage(token)): Promise<KafkaConnection> {
  const conn = await KafkaConnection.connect(LOOPBACK, port);
  await authenticate(conn, mechanism, authBytes);
  return conn;
}

/**
 * Opens `count` connections with `open`, keeping IN_FLIGHT handshakes going at once (a new one
 * starts as soon as one completes); returns them and the rate.
 */
async function storm(count: number, open: (i: number) => Promise<KafkaConnection>, progress: (line: string) => void, label: string) {
  const opened: KafkaConnection[] = [];
  const started = process.hrtime.bigint();
  let next = 0;
  const opener = async () => {
    while (next < count) {
      opened.push(await open(next++));
      if (opened.length % 1000 === 0) progress(`idle: ${label}: ${opened.length} open`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, opener));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { opened, perSecond: Math.round(count / seconds) };
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
        listeners: [
          {
            name: 'bench',
            bind: LOOPBACK,
            port: base,
            advertisedHost: LOOPBACK,
            brokerPorts: { base },
            authentication: ['OAUTHBEARER', 'AWS_MSK_IAM'],
            // Every bench client comes from one address, as fast as the proxy takes them: the storm is what is measured.
            limits: {
              maxConnections: 2 * connections,
              maxConnectionsPerIp: 2 * connections,
              maxUnauthenticatedConnectionsPerIp: connections,
              maxNewConnectionsPerSecondPerIp: 1_000_000,
            },
          },
        ],
        oauthbearer: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'] },
        awsMskIam: { region: 'us-east-1', credentialsFile: 'msk-credentials.yaml' },
        logging: { level: 'warn' },
      }),
    );
    await writeFile(join(workDir, 'msk-credentials.yaml'), stringify({ accessKeys: { [AWS_KEY]: { secretAccessKey: AWS_SECRET, principal: 'svc-idle-aws' } } }));
    const child = spawnOwned(process.execPath, [...PROXY_NODE_FLAGS, CLI_PATH, '--config', configFile]);
    stopProxy = () => child.kill('SIGKILL');
    createInterface({ input: child.stderr }).on('line', (l) => progress(`proxy: ${l}`));
    await waitForPort(base + 1);
    const token = await issuer.mint({ subject: 'svc-idle', expiresInSeconds: 3600 });
    for (let i = 0; i < 50; i++) clients.push(await openWithBroker(base + 1, token));
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssBytes(child.pid!);
    const openFilesBefore = openFiles(child.pid!);
    progress(`idle: opening ${connections} authenticated connections (OAUTHBEARER) ...`);
    const oauth = await storm(connections, () => openAuthenticated(base + 1, token), progress, 'OAUTHBEARER');
    clients.push(...oauth.opened);
    await new Promise((r) => setTimeout(r, 3000));
    const after = rssBytes(child.pid!);
    for (const c of clients.splice(0)) c.close();
    await waitForClosed(child.pid!, openFilesBefore);
    progress(`idle: signing ${connections} AWS_MSK_IAM payloads, then the same storm ...`);
    const now = Date.now();
    const payloads = Array.from({ length: connections }, (_, i) =>
      mskIamPayload({ host: LOOPBACK, accessKeyId: AWS_KEY, secretAccessKey: AWS_SECRET, signedAt: now - (i % 600) * 1000 }),
    );
    const aws = await storm(connections, (i) => openAuthenticated(base + 1, '', 'AWS_MSK_IAM', payloads[i]), progress, 'AWS_MSK_IAM');
    clients.push(...aws.opened);
    return {
      connections,
      connectionsPerSecond: oauth.perSecond,
      awsConnectionsPerSecond: aws.perSecond,
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

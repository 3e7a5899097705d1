import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { LOOPBACK, pickFreePortBase, pickFreePorts } from '../scripts/kafka/ports.js';
import { startDevIssuer } from '../src/dev-issuer/issuer.js';
import { createLogger } from '../src/observe/logger.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../src/protocol/generated/messages/MetadataRequest.js';
import type { BrokerDialer } from '../src/proxy/broker-dialer.js';
import { KafkaConnection } from '../src/proxy/kafka-connection.js';
import { CLI_PATH, PROXY_NODE_FLAGS, ensureBuilt } from './build-dist.js';
import { spawnOwned } from './child-process.js';
import { processTree, treeCpuMs, treeOpenFiles, treeRssBytes } from './process-tree.js';
import { authenticate, oauthBearerMessage } from './sasl-client.js';
import { mskIamPayload } from './sasl-handshakes.js';
import { type BenchCertificates, benchCertificates } from './tls-certificates.js';
import { benchTlsDialer } from './tls-dialer.js';

export interface IdleConnectionsResult {
  connections: number;
  /** `workers` of both proxies; every proxy figure is the supervisor and all its workers together. */
  workers: number;
  /** Processes summed for the proxy figures (the supervisor, its workers). */
  proxyProcesses: number;
  /** New authenticated connections per second while opening them (OAUTHBEARER RS256, 100 in flight). */
  connectionsPerSecond: number;
  /** The same storm with AWS_MSK_IAM (SigV4 payloads signed before the storm), after the OAUTHBEARER clients have gone. */
  awsConnectionsPerSecond: number;
  /** OAUTHBEARER connections per second of the proxy's CPU time (all its threads): the per-core rate. */
  connectionsPerProxyCpuSecond: number;
  proxyRssBeforeMiB: number;
  proxyRssAfterMiB: number;
  bytesPerConnection: number;
  /** The same clients over TLS (SASL_SSL), against a second proxy process: see TlsIdleResult. */
  tls: TlsIdleResult;
}

/** One storm: how fast `connections` clients connected, and what it cost the proxy. */
export interface StormFigures {
  name: string;
  /** New connections per second, wall clock (bench clients and proxy share the machine's cores). */
  perSecond: number;
  /** New connections per second of proxy CPU time: the per-core rate. */
  perProxyCpuSecond: number;
  /** Proxy CPU time per new connection, µs (the supervisor and all its workers). */
  proxyCpuMicrosPerConnection: number;
  /** The supervisor's part of that: accepting the connection and handing it to a worker. */
  supervisorCpuMicrosPerConnection: number;
  /** Bench process CPU time per new connection, µs (the clients' side of TLS and SASL). */
  clientCpuMicrosPerConnection: number;
  /** Connections whose TLS session was resumed (TLSSocket.isSessionReused on the client). */
  resumed: number;
  /** The TLS version and cipher the first connection of the storm negotiated. */
  protocol?: string;
}

/**
 * A proxy with a SASL_SSL listener (OAUTHBEARER over TLS, the certificate made by the bench):
 * memory per idle authenticated TLS connection, then four storms: TLS 1.3 and TLS 1.2, each
 * with full handshakes and with resumed sessions (tickets from earlier connections).
 */
export interface TlsIdleResult {
  connections: number;
  proxyRssBeforeMiB: number;
  proxyRssAfterMiB: number;
  bytesPerConnection: number;
  /** The plaintext OAUTHBEARER storm first (same process layout as the TLS ones), then the four TLS storms. */
  storms: StormFigures[];
}

/** The proxy holds one socket per idle client (its broker connection opens with the first request), the bench one more: under 20,000 open files each. */
const DEFAULT_CONNECTIONS = 10_000;
/** Handshakes in progress at once during a storm. */
const IN_FLIGHT = 100;

/** Waits until the proxy has let go of the connections the bench closed, so the next storm does not share the CPU with their teardown. */
export async function waitForClosed(pid: number, openFilesBefore: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (treeOpenFiles(pid) > openFilesBefore) {
    if (Date.now() > deadline) throw new Error(`the proxy still holds ${treeOpenFiles(pid) - openFilesBefore} closed connections after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const AWS_KEY = 'AKIAIDLEBENCH0001';
const AWS_SECRET = 'idle-bench-secret-0001/abcdefgh';

/** One authenticated connection: the full SASL handshake, then nothing (an idle client). */
export async function openAuthenticated(
  port: number,
  token: string,
  mechanism = 'OAUTHBEARER',
  authBytes: Buffer = oauthBearerMessage(token),
  dialer?: BrokerDialer,
): Promise<KafkaConnection> {
  const conn = await KafkaConnection.connect(LOOPBACK, port, undefined, dialer);
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

/** storm() with the CPU time the proxy (`pid`) and the bench process spent meanwhile. */
export async function measuredStorm(
  pid: number,
  count: number,
  open: (i: number) => Promise<KafkaConnection>,
  progress: (line: string) => void,
  label: string,
): Promise<{ opened: KafkaConnection[]; figures: Omit<StormFigures, 'resumed' | 'protocol'> }> {
  const proxyBefore = treeCpuMs(pid)!;
  const clientBefore = process.cpuUsage();
  const { opened, perSecond } = await storm(count, open, progress, label);
  const proxyAfter = treeCpuMs(pid)!;
  const proxyMs = proxyAfter.totalMs - proxyBefore.totalMs;
  const client = process.cpuUsage(clientBefore);
  return {
    opened,
    figures: {
      name: label,
      perSecond,
      perProxyCpuSecond: Math.round(count / (proxyMs / 1000)),
      proxyCpuMicrosPerConnection: Math.round((proxyMs * 1000) / count),
      supervisorCpuMicrosPerConnection: Math.round(((proxyAfter.rootMs - proxyBefore.rootMs) * 1000) / count),
      clientCpuMicrosPerConnection: Math.round((client.user + client.system) / count),
    },
  };
}

/** A first request, so the proxy opens this connection's broker connection (the warm-up clients). */
async function openWithBroker(port: number, token: string, dialer?: BrokerDialer): Promise<KafkaConnection> {
  const conn = await openAuthenticated(port, token, undefined, undefined, dialer);
  await conn.request(API_KEYS.Metadata, 9, { ...defaultMetadataRequest(), topics: [] });
  return conn;
}

export interface IdleProxy {
  /** The supervisor's: measured with its workers through process-tree.ts. */
  pid: number;
  /** Broker 1's port, where the bench's clients connect. */
  port: number;
  /** SIGKILLs the supervisor and waits until its workers have exited too (they do once it is gone). */
  kill(): Promise<void>;
}

/**
 * `node dist/cli.js` with `workers` workers and one listener in front of `upstream`, limits
 * raised for `connections` clients from one address (the configured numbers are split between
 * the workers); resolves once every worker accepts.
 */
export async function startIdleProxy(
  workDir: string,
  name: string,
  upstream: string[],
  connections: number,
  workers: number,
  listener: Record<string, unknown>,
  sections: Record<string, unknown>,
  progress: (line: string) => void,
): Promise<IdleProxy> {
  const base = await pickFreePortBase([0, 1]);
  const [adminPort] = await pickFreePorts(1);
  const configFile = join(workDir, `${name}.yaml`);
  await writeFile(
    configFile,
    stringify({
      workers,
      upstream: { bootstrapServers: upstream },
      listeners: [
        {
          name: 'bench',
          bind: LOOPBACK,
          port: base,
          advertisedHost: LOOPBACK,
          brokerPorts: { base },
          ...listener,
          // Every bench client comes from one address, as fast as the proxy takes them: the storm is what is measured.
          limits: {
            maxConnections: 2 * connections,
            maxConnectionsPerIp: 2 * connections,
            maxUnauthenticatedConnectionsPerIp: connections,
            maxNewConnectionsPerSecondPerIp: 1_000_000,
          },
        },
      ],
      ...sections,
      // Only to see when every worker accepts: at warn, the supervisor logs nothing when they do.
      admin: { bind: LOOPBACK, port: adminPort },
      logging: { level: 'warn' },
    }),
  );
  const child = spawnOwned(process.execPath, [...PROXY_NODE_FLAGS, CLI_PATH, '--config', configFile]);
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    const tree = processTree(pid);
    child.kill('SIGKILL');
    await exited;
    const deadline = Date.now() + 30_000;
    while (tree.some((p) => existsSync(`/proc/${p}`))) {
      if (Date.now() > deadline) throw new Error(`the proxy's workers (${tree.slice(1).join(', ')}) did not exit within 30 s of the supervisor`);
      await settle(100);
    }
  };
  createInterface({ input: child.stderr }).on('line', (l) => progress(`proxy: ${l}`));
  try {
    await waitForPort(base + 1);
    await waitForWorkers(adminPort, workers);
  } catch (e) {
    await kill();
    throw e;
  }
  return { pid, port: base + 1, kill };
}

/** Until the supervisor's kafka_proxy_workers{state="ready"} gauge says `workers`. */
async function waitForWorkers(adminPort: number, workers: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const text = await (await fetch(`http://${LOOPBACK}:${adminPort}/metrics`)).text();
      const ready = /^kafka_proxy_workers\{state="ready"\} (\d+)$/m.exec(text)?.[1];
      if (Number(ready) === workers) return;
      last = `${ready ?? 'no'} ready`;
    } catch (e) {
      last = (e as Error).message;
    }
    await settle(200);
  }
  throw new Error(`the proxy's ${workers} workers were not all ready within 60 s (${last})`);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IdleOptions {
  /** Clients per storm (default 10,000). */
  connections?: number;
  /** `workers` of the proxies (default 1). */
  workers?: number;
}

/**
 * Memory the proxy (`node dist/cli.js` with `workers` workers, OAUTHBEARER listener, one Kafka
 * 3.9 broker) holds per idle authenticated connection: the resident sets of its supervisor and
 * workers before and after `connections` clients have authenticated, divided by their number;
 * and how fast they connected (the connection storm). Then the same over TLS (SASL_SSL) against
 * a second proxy: memory per idle TLS connection, and full and resumed TLS 1.3 and TLS 1.2
 * handshakes per second and per proxy CPU second.
 */
export async function runIdleConnectionsBench(progress: (line: string) => void, options: IdleOptions = {}): Promise<IdleConnectionsResult> {
  const { connections = DEFAULT_CONNECTIONS, workers = 1 } = options;
  await ensureBuilt(progress);
  const workDir = await mkdtemp(join(tmpdir(), 'idle-bench-'));
  const cluster = await startKafkaCluster({ brokers: 1, log: progress });
  const issuer = await startDevIssuer({ port: 0, log: createLogger('silent') });
  const clients: KafkaConnection[] = [];
  let stopProxy = async () => {};
  try {
    const oauthbearer = { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'] };
    await writeFile(join(workDir, 'msk-credentials.yaml'), stringify({ accessKeys: { [AWS_KEY]: { secretAccessKey: AWS_SECRET, principal: 'svc-idle-aws' } } }));
    const plain = await startIdleProxy(
      workDir,
      'proxy',
      cluster.bootstrapServers,
      connections,
      workers,
      { authentication: ['OAUTHBEARER', 'AWS_MSK_IAM'] },
      { oauthbearer, awsMskIam: { region: 'us-east-1', credentialsFile: 'msk-credentials.yaml' } },
      progress,
    );
    stopProxy = plain.kill;
    const token = await issuer.mint({ subject: 'svc-idle', expiresInSeconds: 3600 });
    for (let i = 0; i < 50; i++) clients.push(await openWithBroker(plain.port, token));
    await settle(1000);
    const proxyProcesses = processTree(plain.pid).length;
    const before = treeRssBytes(plain.pid);
    const openFilesBefore = treeOpenFiles(plain.pid);
    progress(`idle: opening ${connections} authenticated connections (OAUTHBEARER) ...`);
    const oauth = await measuredStorm(plain.pid, connections, () => openAuthenticated(plain.port, token), progress, 'plaintext, OAUTHBEARER');
    clients.push(...oauth.opened);
    await settle(3000);
    const after = treeRssBytes(plain.pid);
    for (const c of clients.splice(0)) c.close();
    await waitForClosed(plain.pid, openFilesBefore);
    progress(`idle: signing ${connections} AWS_MSK_IAM payloads, then the same storm ...`);
    const now = Date.now();
    const payloads = Array.from({ length: connections }, (_, i) =>
      mskIamPayload({ host: LOOPBACK, accessKeyId: AWS_KEY, secretAccessKey: AWS_SECRET, signedAt: now - (i % 600) * 1000 }),
    );
    const aws = await storm(connections, (i) => openAuthenticated(plain.port, '', 'AWS_MSK_IAM', payloads[i]), progress, 'AWS_MSK_IAM');
    for (const c of aws.opened) c.close();
    // The TLS proxy gets the machine (and a fresh heap) to itself.
    await plain.kill();
    stopProxy = async () => {};

    const certificates = await benchCertificates(workDir);
    const tlsProxy = await startIdleProxy(
      workDir,
      'proxy-tls',
      cluster.bootstrapServers,
      connections,
      workers,
      { authentication: ['OAUTHBEARER'], tls: { certFile: certificates.certFile, keyFile: certificates.keyFile } },
      { oauthbearer },
      progress,
    );
    stopProxy = tlsProxy.kill;
    const tls = await tlsStorms(tlsProxy, certificates, token, connections, clients, progress);
    tls.storms.unshift({ ...oauth.figures, resumed: 0 });
    return {
      connections,
      workers,
      proxyProcesses,
      connectionsPerSecond: oauth.figures.perSecond,
      connectionsPerProxyCpuSecond: oauth.figures.perProxyCpuSecond,
      awsConnectionsPerSecond: aws.perSecond,
      proxyRssBeforeMiB: Math.round(before / 2 ** 20),
      proxyRssAfterMiB: Math.round(after / 2 ** 20),
      bytesPerConnection: Math.round((after - before) / connections),
      tls,
    };
  } finally {
    for (const c of clients) c.close();
    await stopProxy();
    await issuer.stop();
    await cluster.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Against a fresh proxy with a SASL_SSL listener: TLS 1.3 full handshakes (the clients kept
 * idle, for memory), then resumed ones, then TLS 1.2 full and resumed. A resumed storm's
 * clients offer the newest ticket the proxy sent, as a client library resumes with the ticket
 * it holds; whether the proxy took it is read from each client socket (isSessionReused).
 */
async function tlsStorms(
  proxy: IdleProxy,
  certificates: BenchCertificates,
  token: string,
  connections: number,
  clients: KafkaConnection[],
  progress: (line: string) => void,
): Promise<TlsIdleResult> {
  const warmDialer = benchTlsDialer(certificates.caPem);
  for (let i = 0; i < 50; i++) clients.push(await openWithBroker(proxy.port, token, warmDialer));
  await settle(1000);
  const before = treeRssBytes(proxy.pid);
  const openFilesBefore = treeOpenFiles(proxy.pid);
  const storms: StormFigures[] = [];
  let after = 0;
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    let newest: Buffer | undefined;
    for (const resume of [false, true]) {
      const label = `${version === 'TLSv1.3' ? 'TLS 1.3' : 'TLS 1.2'}, ${resume ? 'resumed' : 'full handshake'}`;
      let resumed = 0;
      let protocol: string | undefined;
      const dialer = benchTlsDialer(certificates.caPem, {
        maxVersion: version,
        session: resume ? () => newest : undefined,
        ticket: (session) => (newest = session),
        secured: (socket: TLSSocket) => {
          if (socket.isSessionReused()) resumed++;
          protocol ??= `${socket.getProtocol()} ${socket.getCipher().name}`;
        },
      });
      if (resume && newest === undefined) throw new Error(`idle: the proxy sent no session ticket during the ${version} full-handshake storm`);
      progress(`idle: opening ${connections} SASL_SSL connections, ${label} ...`);
      const s = await measuredStorm(proxy.pid, connections, () => openAuthenticated(proxy.port, token, undefined, undefined, dialer), progress, label);
      clients.push(...s.opened);
      storms.push({ ...s.figures, resumed, protocol });
      progress(`idle: ${label}: ${s.figures.perSecond}/s, ${s.figures.perProxyCpuSecond} per proxy CPU second, ${resumed} of ${connections} resumed (${protocol})`);
      if (version === 'TLSv1.3' && !resume) {
        await settle(3000);
        after = treeRssBytes(proxy.pid);
      }
      // Keep the 50 warm-up clients; close this storm's.
      for (const c of clients.splice(50)) c.close();
      await waitForClosed(proxy.pid, openFilesBefore);
    }
  }
  return {
    connections,
    proxyRssBeforeMiB: Math.round(before / 2 ** 20),
    proxyRssAfterMiB: Math.round(after / 2 ** 20),
    bytesPerConnection: Math.round((after - before) / connections),
    storms,
  };
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

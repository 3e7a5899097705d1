import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { onParentExit } from '../scripts/kafka/exit-hooks.js';
import { LOOPBACK, pickFreePorts } from '../scripts/kafka/ports.js';
import type { BrokerDialer } from '../src/proxy/broker-dialer.js';
import { type AuthzProxy, startAuthzProxy } from './authz-proxy.js';
import { ensureBuilt } from './build-dist.js';
import { startProxyProcess } from './proxy-process.js';
import { startRelayProcess } from './relay-process.js';
import { startGrepplabs } from './peers/grepplabs.js';
import { startKroxylicious } from './peers/kroxylicious.js';
import { benchCertificates } from './tls-certificates.js';
import { benchTlsDialer } from './tls-dialer.js';

/** One path from the load generator to the broker. */
export interface Configuration {
  name: string;
  bootstrap: string;
  /** Client settings this path needs, e.g. SASL for a proxy that authenticates. */
  clientProperties: Record<string, string>;
  /** The process that forwards this path's bytes, whose CPU time (with its children's) is measured; none for direct. */
  forwarderPid?: number;
  /** A proxy path's worker count: forwarderPid is then the supervisor, whose own share is reported too. */
  workers?: number;
  /** An OAUTHBEARER token, where the path authenticates. */
  token?: () => Promise<string>;
  /** How the bench's own clients (the latency probe) connect, where the path is not plaintext. */
  dialer?: BrokerDialer;
}

/** Which paths beside direct, the relay and the proxy: ours (TLS, authz, recording) or the peers'. */
export interface E2ePaths {
  /** Also the proxy and proxy+authz paths with the access recorder on. */
  record?: boolean;
  /** The peers instead of the proxy's other paths: Kroxylicious, and grepplabs/kafka-proxy from this binary if given. */
  peers?: { grepplabs?: string };
}

export interface E2eEnvironment {
  /** Every path under test; the first, direct, is what the others are compared with. */
  configurations: Configuration[];
  /** The broker's own PLAINTEXT address, for creating topics outside the paths under test. */
  broker: string;
  /** Scratch space (config files, the compiled tool launcher), removed by stop(). */
  workDir: string;
  /** What proxy+authz enforces; undefined where the paths are the peers'. */
  authzPolicy: AuthzProxy['policy'] | undefined;
  /** The peers measured, with their versions (peers paths only). */
  peers: { name: string; version: string }[];
  /** Warnings, errors and denials the proxies logged so far, each line prefixed with its path. */
  proxyProblems(): string[];
  /**
   * `work`, or a rejection as soon as the relay or a proxy dies: clients would otherwise
   * retry for minutes, or report numbers for a path that no longer exists.
   */
  guard<T>(work: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * One Kafka broker with two plaintext listeners, both on the same broker so every path
 * measures the same JVM and log: PLAINTEXT, advertised as itself (direct clients and the
 * proxy's upstream), and RELAY, advertised as the TCP relay's port, so relay clients that
 * learn the broker's address from Metadata come back through the relay. The relay and the
 * three proxies (in front of PLAINTEXT; one with a TLS listener, one authenticating and
 * enforcing a policy), each a supervisor with `workers` workers, are child processes. The TLS listener's certificate is made here, signed
 * by a CA of the bench's own that its clients trust.
 */
export async function startE2eEnvironment(log: (line: string) => void, workers: number, paths: E2ePaths = {}): Promise<E2eEnvironment> {
  const { record = false, peers } = paths;
  const workDir = await mkdtemp(join(tmpdir(), 'kafka-proxy-e2e-'));
  const unregister = onParentExit(() => rmSync(workDir, { recursive: true, force: true }));
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const s of stops.reverse()) await s();
    stops.length = 0;
    await rm(workDir, { recursive: true, force: true });
    unregister();
  };

  /** Rejects as soon as one of the forwarders ends before stop(). */
  const dieWith = (watched: [string, Promise<string>][]) => {
    const died = new Promise<never>((_, reject) => {
      for (const [name, exited] of watched)
        void exited.then((how) => {
          if (!stopping) reject(new Error(`the ${name} ${how} during the benchmark`));
        });
    });
    // guard() reports a death; this keeps one between two measurements from being an unhandled rejection.
    died.catch(() => {});
    return died;
  };

  try {
    await ensureBuilt(log);
    const [relayListenerPort] = await pickFreePorts(1);
    const relay = await startRelayProcess(LOOPBACK, relayListenerPort);
    stops.push(() => relay.stop());
    const cluster = await startKafkaCluster({
      brokers: 1,
      log,
      extraListeners: () => [{ name: 'RELAY', port: relayListenerPort, advertisedPort: relay.port }],
    });
    stops.push(() => cluster.stop());
    const broker = cluster.bootstrapServers[0];
    // The peers' run opens its idle connections from one address as fast as each forwarder takes them: no per-address limit may refuse them.
    const idleLimits = peers && { maxConnectionsPerIp: 100_000, maxConnections: 100_000, maxNewConnectionsPerSecondPerIp: 1_000_000 };
    const proxy = await startProxyProcess(broker, workDir, { name: 'proxy', workers, listener: idleLimits ? { authentication: 'none', limits: idleLimits } : undefined });
    stops.push(() => proxy.stop());
    const direct: Configuration = { name: 'direct', bootstrap: broker, clientProperties: {} };
    const viaRelay: Configuration = { name: 'relay', bootstrap: `${LOOPBACK}:${relay.port}`, clientProperties: {}, forwarderPid: relay.pid };
    const viaProxy: Configuration = { name: 'proxy', bootstrap: proxy.bootstrap, clientProperties: {}, forwarderPid: proxy.pid, workers };
    if (peers) {
      const kroxylicious = await startKroxylicious(broker, workDir, log);
      stops.push(() => kroxylicious.stop());
      const grepplabs = peers.grepplabs === undefined ? undefined : await startGrepplabs(peers.grepplabs, broker, log);
      if (grepplabs) stops.push(() => grepplabs.stop());
      const running = [kroxylicious, ...(grepplabs ? [grepplabs] : [])];
      const died = dieWith([
        ['TCP relay', relay.exited],
        ['proxy', proxy.exited],
        ...running.map((p): [string, Promise<string>] => [p.name, p.exited]),
      ]);
      return {
        configurations: [
          direct,
          viaRelay,
          viaProxy,
          ...running.map((p) => ({ name: p.name, bootstrap: p.bootstrap, clientProperties: {}, forwarderPid: p.pid })),
        ],
        broker,
        workDir,
        authzPolicy: undefined,
        peers: running.map((p) => ({ name: p.name, version: p.version })),
        proxyProblems: () => proxy.problems.map((l) => `proxy: ${l}`),
        guard: (work) => Promise.race([work, died]),
        stop,
      };
    }
    const certificates = await benchCertificates(workDir);
    // authentication none over TLS (Kafka's SSL): what TLS alone costs next to the plaintext proxy.
    const tlsProxy = await startProxyProcess(broker, workDir, {
      name: 'proxy-tls',
      workers,
      listener: { authentication: 'none', tls: { certFile: certificates.certFile, keyFile: certificates.keyFile } },
    });
    stops.push(() => tlsProxy.stop());
    const authz = await startAuthzProxy(broker, workDir, workers);
    stops.push(() => authz.stop());
    // With --record: the same two proxies with the access recorder on, as a migration listener (which decodes every request to record it) and an enforcing one that records.
    const recording = join(workDir, 'recording');
    const recordingProxy = record
      ? await startProxyProcess(broker, workDir, { name: 'proxy-record', workers, listener: { authentication: 'none', recordAccess: true }, sections: { accessRecording: { directory: recording } } })
      : undefined;
    if (recordingProxy) stops.push(() => recordingProxy.stop());
    const recordingAuthz = record ? await startAuthzProxy(broker, workDir, workers, recording) : undefined;
    if (recordingAuthz) stops.push(() => recordingAuthz.stop());
    log(`e2e: proxies with ${workers} worker(s) each; broker ${broker}, relay 127.0.0.1:${relay.port}, proxy ${proxy.bootstrap}, proxy+tls ${tlsProxy.bootstrap}, proxy+authz ${authz.proxy.bootstrap}`);
    const died = dieWith([
      ['TCP relay', relay.exited],
      ['proxy', proxy.exited],
      ['TLS proxy', tlsProxy.exited],
      ['authorizing proxy', authz.proxy.exited],
      ...(recordingProxy ? [['recording proxy', recordingProxy.exited] as [string, Promise<string>]] : []),
      ...(recordingAuthz ? [['recording authorizing proxy', recordingAuthz.proxy.exited] as [string, Promise<string>]] : []),
    ]);

    return {
      configurations: [
        direct,
        viaRelay,
        viaProxy,
        {
          name: 'proxy+tls',
          bootstrap: tlsProxy.bootstrap,
          // Kafka's SSL with a PEM trust store (KIP-651); the host name check stays on (the certificate names 127.0.0.1).
          clientProperties: { 'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': certificates.caFile },
          forwarderPid: tlsProxy.pid,
          workers,
          dialer: benchTlsDialer(certificates.caPem),
        },
        { name: 'proxy+authz', bootstrap: authz.proxy.bootstrap, clientProperties: authz.clientProperties, forwarderPid: authz.proxy.pid, workers, token: authz.token },
        ...(recordingProxy && recordingAuthz
          ? [
              { name: 'proxy+record', bootstrap: recordingProxy.bootstrap, clientProperties: {}, forwarderPid: recordingProxy.pid, workers },
              { name: 'proxy+authz+record', bootstrap: recordingAuthz.proxy.bootstrap, clientProperties: recordingAuthz.clientProperties, forwarderPid: recordingAuthz.proxy.pid, workers, token: recordingAuthz.token },
            ]
          : []),
      ],
      broker,
      workDir,
      authzPolicy: authz.policy,
      peers: [],
      proxyProblems: () => [
        ...proxy.problems.map((l) => `proxy: ${l}`),
        ...tlsProxy.problems.map((l) => `proxy+tls: ${l}`),
        ...authz.proxy.problems.map((l) => `proxy+authz: ${l}`),
        ...(recordingProxy?.problems.map((l) => `proxy+record: ${l}`) ?? []),
        ...(recordingAuthz?.proxy.problems.map((l) => `proxy+authz+record: ${l}`) ?? []),
      ],
      guard: (work) => Promise.race([work, died]),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

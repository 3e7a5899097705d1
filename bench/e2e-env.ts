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

export interface E2eEnvironment {
  /** Every path under test; the first, direct, is what the others are compared with. */
  configurations: Configuration[];
  /** The broker's own PLAINTEXT address, for creating topics outside the paths under test. */
  broker: string;
  /** Scratch space (config files, the compiled tool launcher), removed by stop(). */
  workDir: string;
  /** What proxy+authz enforces. */
  authzPolicy: AuthzProxy['policy'];
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
export async function startE2eEnvironment(log: (line: string) => void, workers: number, record = false): Promise<E2eEnvironment> {
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
    const proxy = await startProxyProcess(broker, workDir, { name: 'proxy', workers });
    stops.push(() => proxy.stop());
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
    const died = new Promise<never>((_, reject) => {
      const watch = (name: string, exited: Promise<string>) =>
        exited.then((how) => {
          if (!stopping) reject(new Error(`the ${name} ${how} during the benchmark`));
        });
      watch('TCP relay', relay.exited);
      watch('proxy', proxy.exited);
      watch('TLS proxy', tlsProxy.exited);
      watch('authorizing proxy', authz.proxy.exited);
      if (recordingProxy) watch('recording proxy', recordingProxy.exited);
      if (recordingAuthz) watch('recording authorizing proxy', recordingAuthz.proxy.exited);
    });
    // guard() reports a death; this keeps one between two measurements from being an unhandled rejection.
    died.catch(() => {});

    return {
      configurations: [
        { name: 'direct', bootstrap: broker, clientProperties: {} },
        { name: 'relay', bootstrap: `${LOOPBACK}:${relay.port}`, clientProperties: {}, forwarderPid: relay.pid },
        { name: 'proxy', bootstrap: proxy.bootstrap, clientProperties: {}, forwarderPid: proxy.pid, workers },
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

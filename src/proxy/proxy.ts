import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { DenialLog } from '../authz/denial-log.js';
import { PolicyStore } from '../authz/policy-store.js';
import { type ListenerConfig, type ProxyConfig, recordsAccess } from '../config/schema.js';
import { AccessRecorder } from '../migration/access-recorder.js';
import { EVERYTHING_ALLOWED } from '../migration/everything-allowed.js';
import { type MigrationNews, MigrationProgress } from '../migration/migration-progress.js';
import { RecordingWriter } from '../migration/recording-writer.js';
import { ProxyMetrics } from '../observe/metrics.js';
import { type WorkerStatus, jwksNotReady, jwksStatusJson, policyStatusJson } from '../observe/proxy-status.js';
import { chainExpiry } from '../tls/chain-expiry.js';
import { ticketKeysFor } from '../tls/ticket-keys.js';
import { RolesSource } from '../roles/roles-source.js';
import { Authentication } from '../sasl/authentication.js';
import { brokerDialer } from './broker-dialer.js';
import { discoverCluster, listTopicIds, parseHostPort, refreshPeriodically } from './cluster-discovery.js';
import { ClusterView } from './cluster-view.js';
import { ListenerAuthorization, type ListenerAuthorizationLimits } from './listener-authorization.js';
import { MemoryBudget } from './memory-budget.js';
import { ProxyListener } from './listener.js';
import { TopicIds } from './topic-ids.js';

/** The policy and what every authorizing listener shares. */
interface Authorization {
  policies: PolicyStore;
  denials: DenialLog;
  topicIds: TopicIds;
  rolesSource: RolesSource | undefined;
}

/** The access recorder of the listeners that record, and what those without a policy authorize with. */
interface Recording {
  recorder: AccessRecorder;
  writer: RecordingWriter;
  progress: MigrationProgress;
  denials: DenialLog;
  topicIds: TopicIds;
}

/** The memory budgets every listener shares. */
interface ProxyBudgets {
  heldResponses: MemoryBudget;
  preAuthBytes: MemoryBudget;
  requestBytes: MemoryBudget;
}

export interface StartOptions {
  /** What the TLS listeners derive their session-ticket keys from (shared by the workers of one proxy). */
  tlsTicketSecret?: Buffer;
  /** Keep trying the bootstrap servers until one answers, instead of failing (a proxy that starts before its brokers). */
  waitForBrokers?: boolean;
  /** Keep the clients new to the access recorder for migrationNews (a worker tells the supervisor). */
  keepMigrationNews?: boolean;
}

/** Wait before the next discovery attempt while no broker answers: 1 s, doubling up to 10 s. */
const DISCOVERY_RETRY_FIRST_MS = 1_000;
const DISCOVERY_RETRY_MAX_MS = 10_000;

async function untilItWorks(attempt: () => Promise<void>, log: Logger): Promise<void> {
  for (let waitMs = DISCOVERY_RETRY_FIRST_MS; ; waitMs = Math.min(2 * waitMs, DISCOVERY_RETRY_MAX_MS)) {
    try {
      return await attempt();
    } catch (e) {
      log.warn({ err: (e as Error).message, retryInMs: waitMs }, 'no bootstrap server answers yet; not ready, retrying');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** The running proxy: the cluster view, its listeners, the policy and the metadata refresh. */
export class KafkaAuthProxy {
  private stopRefresh: () => void = () => {};

  private constructor(
    readonly cluster: ClusterView,
    readonly listeners: ProxyListener[],
    readonly metrics: ProxyMetrics,
    private readonly config: ProxyConfig,
    private readonly log: Logger,
    private readonly authentication: Authentication,
    private readonly authorization: Authorization | undefined,
    private readonly budgets: ProxyBudgets,
    private readonly recording: Recording | undefined,
  ) {}

  static async start(config: ProxyConfig, log: Logger, metrics = new ProxyMetrics(), options: StartOptions = {}): Promise<KafkaAuthProxy> {
    const { tlsTicketSecret } = options;
    // Before anything starts: unreadable upstream.tls files are a startup error naming the file.
    const dialer = brokerDialer(config.upstream.tls);
    const upstreamCert = config.upstream.tls?.certFile;
    if (upstreamCert) metrics.tlsCertificateExpiry.labels('upstream', 'upstream-client').set(chainExpiry(readFileSync(upstreamCert)));
    const authentication = await Authentication.start(config, log, {
      jwksFetched: (outcome) => metrics.jwksFetches.inc({ outcome }),
      credentialsReloaded: (outcome) => metrics.credentialsReloads.inc({ outcome }),
    });
    const { bootstrapServers } = config.upstream;
    const bootstrapFailed = () => metrics.brokerConnectionFailures.inc({ broker: 'bootstrap' });
    let authorization: Authorization | undefined;
    if (config.authorization) {
      const reloaded = (outcome: 'success' | 'failure') => metrics.policyReloads.inc({ outcome });
      const policies = await PolicyStore.open(config.authorization.policyFile, log, { reloaded }).catch((e: unknown) => {
        authentication.stop();
        throw e;
      });
      const topicIds = new TopicIds(() => listTopicIds(bootstrapServers, config.limits.connectTimeoutMs, dialer, bootstrapFailed), log);
      let rolesSource: RolesSource | undefined;
      try {
        rolesSource = config.rolesSource && new RolesSource(config.rolesSource, metrics.registry, log);
        await rolesSource?.start();
      } catch (e) {
        authentication.stop();
        policies.stop();
        throw e;
      }
      authorization = { policies, denials: new DenialLog(log, metrics), topicIds, rolesSource };
    }
    const recording = startRecording(config, authorization, metrics, log, options.keepMigrationNews ?? false, () =>
      new TopicIds(() => listTopicIds(bootstrapServers, config.limits.connectTimeoutMs, dialer, bootstrapFailed), log),
    );
    const cluster = new ClusterView();
    try {
      const discover = () => discoverCluster(bootstrapServers, cluster, config.limits.connectTimeoutMs, dialer, bootstrapFailed);
      await (options.waitForBrokers ? untilItWorks(discover, log) : discover());
    } catch (e) {
      authentication.stop();
      authorization?.policies.stop();
      await authorization?.rolesSource?.stop();
      await recording?.writer.stop();
      throw e;
    }
    log.info({ brokers: cluster.nodeIds() }, 'cluster discovered');
    const bootstrap = bootstrapServers.map(parseHostPort);
    const heldResponses = new MemoryBudget(config.limits.maxHeldResponseBytes);
    const preAuthBytes = new MemoryBudget(config.limits.maxUnauthenticatedBytes);
    const requestBytes = new MemoryBudget(config.limits.maxBufferedRequestBytes);
    metrics.observe({
      jwks: () => authentication.jwksStatus(),
      policy: () => authorization?.policies.status(),
      budgets: { 'held-responses': heldResponses, 'preauth-bytes': preAuthBytes, 'request-bytes': requestBytes },
    });
    const listeners = config.listeners.map((l) => {
      const authorizes = listenerAuthorization(l, authorization, metrics, log, config.limits, recording);
      // Topic ids are learnt from Metadata answers only where requests are decided: transparent listeners decode less.
      const topicIds = authorizes && (authorization?.topicIds ?? recording?.topicIds);
      return new ProxyListener(
        l,
        cluster,
        bootstrap,
        config.limits,
        log,
        metrics,
        authentication.mechanismsFor(l),
        authentication.maxSessionMs,
        authorizes,
        topicIds,
        heldResponses,
        preAuthBytes,
        requestBytes,
        dialer,
      );
    });
    const proxy = new KafkaAuthProxy(cluster, listeners, metrics, config, log, authentication, authorization, { heldResponses, preAuthBytes, requestBytes }, recording);
    try {
      for (const l of listeners) await l.start(tlsTicketSecret && ticketKeysFor(tlsTicketSecret, l.config.name));
    } catch (e) {
      await proxy.stop(0);
      throw e;
    }
    proxy.stopRefresh = refreshPeriodically(bootstrapServers, cluster, config.upstream.metadataRefreshMs, config.limits, log, dialer, bootstrapFailed);
    return proxy;
  }

  /**
   * SIGHUP: apply `next` (a config whose changes need no new sockets: log level, limits, listener
   * modes) if given, then re-read the credentials file, the JWKS, the policy and the TLS
   * certificates; only sessions whose credential is gone end.
   */
  async reload(next?: ProxyConfig): Promise<void> {
    if (next) this.apply(next);
    await Promise.all([this.authentication.reload(), this.authorization?.policies.reload('SIGHUP'), ...this.listeners.map((l) => l.reload())]);
  }

  /** Applies `next` (a config whose changes need no new sockets) without re-reading any file: an admin mode switch. */
  apply(next: ProxyConfig): void {
    // Child loggers follow their parent's level unless given their own.
    this.log.level = next.logging.level;
    // The limits object is shared with every listener and session, which read it per use.
    Object.assign(this.config.limits, next.limits);
    this.budgets.heldResponses.maxBytes = next.limits.maxHeldResponseBytes;
    this.budgets.preAuthBytes.maxBytes = next.limits.maxUnauthenticatedBytes;
    this.budgets.requestBytes.maxBytes = next.limits.maxBufferedRequestBytes;
    for (const listener of this.listeners) {
      const changed = next.listeners.find((l) => l.name === listener.config.name);
      if (changed) listener.applyInPlace(changed);
    }
    this.config.logging = next.logging;
  }

  /** What this process serves and with what (admin /status, /readyz). */
  status(): WorkerStatus {
    const jwks = this.authentication.jwksStatus();
    return {
      notReady: jwks ? jwksNotReady(jwks) : [],
      listeners: this.listeners.map((l) => ({
        name: l.config.name,
        mode: l.config.mode,
        authentication: l.config.authentication === 'none' ? [] : [...l.config.authentication],
        bind: l.config.bind,
        port: l.config.port,
        tls: l.config.tls !== undefined,
        connections: { open: l.connectionCount, unauthenticated: l.unauthenticatedCount },
      })),
      ...(this.authorization ? { policy: policyStatusJson(this.authorization.policies.status()) } : {}),
      ...(jwks ? { jwks: jwksStatusJson(jwks) } : {}),
      brokers: this.cluster.nodeIds().map((nodeId) => ({ nodeId, ...this.cluster.get(nodeId)! })),
    };
  }

  /** Clients new to the access recorder since the last call (the kafka_proxy_plaintext_clients gauge across workers). */
  migrationNews(): MigrationNews | undefined {
    return this.recording?.progress.takeNews();
  }

  /** Graceful stop: no new connections, in-flight requests finish within the grace period. */
  async stop(graceMs = this.config.limits.shutdownGraceMs): Promise<void> {
    this.stopRefresh();
    await Promise.all(this.listeners.map((l) => l.stop(graceMs)));
    this.authentication.stop();
    this.authorization?.policies.stop();
    await this.authorization?.rolesSource?.stop();
    // After the listeners: the last sessions' uses are in the final write.
    await this.recording?.writer.stop();
    this.log.info('stopped');
  }
}

/** How one listener authorizes: undefined (no policy) lets every request through, as does mode allow-all; with a warning where that matters. */
function listenerAuthorization(
  l: ListenerConfig,
  authorization: Authorization | undefined,
  metrics: ProxyMetrics,
  log: Logger,
  limits: ListenerAuthorizationLimits,
  recording: Recording | undefined,
): ListenerAuthorization | undefined {
  if (!authorization) {
    // Recording needs the request rules to name each resource and operation: they run with a policy that allows everything.
    if (recording && recordsAccess(l)) {
      const settings = { mode: 'enforce', authentication: l.authentication, recordAccess: true, rolesOffline: l.rolesOffline } as const;
      return new ListenerAuthorization(l.name, settings, EVERYTHING_ALLOWED, recording.denials, recording.topicIds, metrics, limits, recording.recorder);
    }
    if (l.authentication !== 'none') {
      log.warn({ listener: l.name }, 'no authorization configured: every authenticated principal may use every topic, group and transactional id');
    }
    return undefined;
  }
  // An allow-all listener keeps its authorization: a reload may switch it to enforce or audit.
  if (l.mode === 'allow-all') log.warn({ listener: l.name }, 'listener mode allow-all: the policy is not applied here; every client may do anything');
  if (l.mode === 'audit') log.warn({ listener: l.name }, 'listener mode audit: requests the policy denies are logged and let through');
  return new ListenerAuthorization(l.name, l, authorization.policies, authorization.denials, authorization.topicIds, metrics, limits, recording?.recorder, authorization.rolesSource);
}

/**
 * The recorder and its writer, whenever accessRecording is set: a listener that records nothing
 * now may start to when a reload switches it (or a principal's override) to audit.
 */
function startRecording(
  config: ProxyConfig,
  authorization: Authorization | undefined,
  metrics: ProxyMetrics,
  log: Logger,
  keepMigrationNews: boolean,
  newTopicIds: () => TopicIds,
): Recording | undefined {
  const settings = config.accessRecording;
  if (!settings) return undefined;
  const progress = new MigrationProgress(settings.maxIdentities, keepMigrationNews);
  const plaintextClientsChanged = () => metrics.plaintextClients.set(progress.stillOnPlaintext);
  const recorder = new AccessRecorder(settings, {
    entryAdded: () => metrics.accessRecorderEntries.inc(),
    dropped: () => metrics.accessRecorderDropped.inc(),
    plaintextClient: (clientId, address) => (progress.plaintextClient(clientId, address), plaintextClientsChanged()),
    authenticatedClient: (clientId) => (progress.authenticatedClient(clientId), plaintextClientsChanged()),
  });
  const writer = new RecordingWriter(recorder, settings.directory, settings.intervalSeconds, log);
  log.info({ directory: settings.directory, listeners: config.listeners.filter((l) => recordsAccess(l)).map((l) => l.name) }, 'recording access');
  return { recorder, writer, progress, denials: authorization?.denials ?? new DenialLog(log, metrics), topicIds: authorization?.topicIds ?? newTopicIds() };
}

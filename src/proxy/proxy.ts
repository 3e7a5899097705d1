import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/schema.js';
import { Authentication } from '../sasl/authentication.js';
import { discoverCluster, parseHostPort, refreshPeriodically } from './cluster-discovery.js';
import { ClusterView } from './cluster-view.js';
import { ProxyListener } from './listener.js';

/** The running proxy: the cluster view, its listeners and the metadata refresh. */
export class KafkaAuthProxy {
  private stopRefresh: () => void = () => {};

  private constructor(
    readonly cluster: ClusterView,
    readonly listeners: ProxyListener[],
    private readonly config: ProxyConfig,
    private readonly log: Logger,
    private readonly authentication: Authentication,
  ) {}

  static async start(config: ProxyConfig, log: Logger): Promise<KafkaAuthProxy> {
    if (config.authorization) {
      // Refused rather than ignored: a policy that is loaded but not enforced would be worse than none.
      throw new Error('authorization.policyFile is set, but per-topic enforcement is not available in this version; remove the section to run without it');
    }
    for (const l of config.listeners) {
      if (l.authentication !== 'none') {
        log.warn({ listener: l.name }, 'no authorization configured: every authenticated principal may use every topic, group and transactional id');
      }
    }
    const authentication = await Authentication.start(config, log);
    const cluster = new ClusterView();
    const { bootstrapServers } = config.upstream;
    await discoverCluster(bootstrapServers, cluster, config.limits.connectTimeoutMs);
    log.info({ brokers: cluster.nodeIds() }, 'cluster discovered');
    const bootstrap = bootstrapServers.map(parseHostPort);
    const listeners = config.listeners.map(
      (l) => new ProxyListener(l, cluster, bootstrap, config.limits, log, authentication.mechanismsFor(l), authentication.maxSessionMs),
    );
    const proxy = new KafkaAuthProxy(cluster, listeners, config, log, authentication);
    try {
      for (const l of listeners) await l.start();
    } catch (e) {
      await proxy.stop(0);
      throw e;
    }
    proxy.stopRefresh = refreshPeriodically(bootstrapServers, cluster, config.upstream.metadataRefreshMs, config.limits.connectTimeoutMs, log);
    return proxy;
  }

  /** SIGHUP: re-read credential files without dropping connections. */
  async reload(): Promise<void> {
    await this.authentication.reload();
  }

  /** Graceful stop: no new connections, in-flight requests finish within the grace period. */
  async stop(graceMs = this.config.limits.shutdownGraceMs): Promise<void> {
    this.stopRefresh();
    await Promise.all(this.listeners.map((l) => l.stop(graceMs)));
    this.authentication.stop();
    this.log.info('stopped');
  }
}

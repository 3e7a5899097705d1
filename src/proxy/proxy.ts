import type { Logger } from 'pino';
import { OAuthTokenValidator } from '../auth/oauth-validator.js';
import type { ListenerConfig, ProxyConfig } from '../config/schema.js';
import type { SaslMechanism } from '../sasl/mechanism.js';
import { OAuthBearerMechanism } from '../sasl/oauthbearer.js';
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
    private readonly validator: OAuthTokenValidator | undefined,
  ) {}

  static async start(config: ProxyConfig, log: Logger): Promise<KafkaAuthProxy> {
    const mechanismsOf = (l: ListenerConfig) => (l.authentication === 'none' ? [] : l.authentication);
    for (const l of config.listeners) {
      if (mechanismsOf(l).includes('AWS_MSK_IAM')) {
        throw new Error(`listener "${l.name}": AWS_MSK_IAM is not available in this version`);
      }
    }
    const usesOAuth = config.listeners.some((l) => mechanismsOf(l).includes('OAUTHBEARER'));
    const oauth = config.oauthbearer;
    const validator =
      usesOAuth && oauth
        ? new OAuthTokenValidator(oauth, log.child({ component: 'jwks' }), {
            refreshIntervalMs: oauth.jwksRefreshSeconds * 1000,
            unknownKidRefreshIntervalMs: oauth.jwksUnknownKidRefreshSeconds * 1000,
            maxStaleSeconds: oauth.jwksMaxStaleSeconds,
          })
        : undefined;
    await validator?.start();
    const mechanisms: Record<string, SaslMechanism> = {};
    if (validator) mechanisms.OAUTHBEARER = new OAuthBearerMechanism(validator);
    const maxSessionMs = (config.oauthbearer?.maxSessionSeconds ?? 0) * 1000;
    const cluster = new ClusterView();
    const { bootstrapServers } = config.upstream;
    await discoverCluster(bootstrapServers, cluster, config.limits.connectTimeoutMs);
    log.info({ brokers: cluster.nodeIds() }, 'cluster discovered');
    const bootstrap = bootstrapServers.map(parseHostPort);
    const listeners = config.listeners.map(
      (l) => new ProxyListener(l, cluster, bootstrap, config.limits, log, mechanismsOf(l).map((m) => mechanisms[m]), maxSessionMs),
    );
    const proxy = new KafkaAuthProxy(cluster, listeners, config, log, validator);
    try {
      for (const l of listeners) await l.start();
    } catch (e) {
      await proxy.stop(0);
      throw e;
    }
    proxy.stopRefresh = refreshPeriodically(bootstrapServers, cluster, config.upstream.metadataRefreshMs, config.limits.connectTimeoutMs, log);
    return proxy;
  }

  /** Graceful stop: no new connections, in-flight requests finish within the grace period. */
  async stop(graceMs = this.config.limits.shutdownGraceMs): Promise<void> {
    this.stopRefresh();
    await Promise.all(this.listeners.map((l) => l.stop(graceMs)));
    this.validator?.stop();
    this.log.info('stopped');
  }
}

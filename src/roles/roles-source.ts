import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ProxyConfig } from '../config/schema.js';
import type { Registry } from 'prom-client';
import { type CachedRoles, RolesCache } from './roles-cache.js';
import { RolesClient } from './roles-client.js';
import { RolesMetrics } from './roles-metrics.js';
import { RolesSnapshot } from './roles-snapshot.js';
import { rolesPhase, type RolesPhase } from './session-roles.js';

export type RolesSourceConfig = NonNullable<ProxyConfig['rolesSource']>;

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`rolesSource.${what} ${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * Roles from the permissions service for every authorizing listener of this process: the client,
 * its cache and breaker, the snapshot on disk, their metrics and the log lines of a fallback and
 * a recovery.
 */
export class RolesSource {
  private readonly client: RolesClient;
  private readonly cache: RolesCache;
  private readonly snapshot: RolesSnapshot | undefined;
  readonly ttlMs: number;
  readonly metrics: RolesMetrics;
  readonly maxStaleMs: number;

  constructor(
    private readonly config: RolesSourceConfig,
    registry: Registry,
    log: Logger,
  ) {
    this.metrics = new RolesMetrics(registry, () => this.snapshot?.writtenAt);
    const tls = config.tls && {
      ...(config.tls.caFile ? { ca: readFile(config.tls.caFile, 'tls.caFile') } : {}),
      ...(config.tls.certFile ? { cert: readFile(config.tls.certFile, 'tls.certFile') } : {}),
      ...(config.tls.keyFile ? { key: readFile(config.tls.keyFile, 'tls.keyFile') } : {}),
    };
    const bearerToken = config.tokenFile ? readFile(config.tokenFile, 'tokenFile').toString('utf8').trim() : undefined;
    this.client = new RolesClient({ url: config.url, timeoutMs: config.timeoutMs, bearerToken, tls });
    this.ttlMs = config.ttlSeconds * 1000;
    this.maxStaleMs = config.maxStaleSeconds * 1000;
    const { breaker } = config;
    const where = { rolesSource: new URL(config.url).origin };
    this.cache = new RolesCache(
      (principal) => this.client.rolesOf(principal),
      {
        ttlMs: this.ttlMs,
        maxConcurrentRequests: config.maxConcurrentRequests,
        maxPrincipals: config.maxPrincipals,
        breaker: { failurePercentage: breaker.failurePercentage, minimumRequests: breaker.minimumRequests, windowMs: breaker.windowSeconds * 1000, openMs: breaker.openSeconds * 1000 },
      },
      {
        requested: (outcome, seconds) => this.metrics.requested(outcome, seconds),
        looked: (result) => this.metrics.lookups.inc({ result }),
        breaker: (state) => {
          this.metrics.breakerState(state);
          if (state === 'open') log.warn({ ...where, openSeconds: breaker.openSeconds }, 'roles source failing: circuit breaker open; sessions without fresh roles follow their listener\'s rolesOffline');
          if (state === 'closed') log.info(where, 'roles source answers again: circuit breaker closed');
        },
      },
    );
    this.snapshot = config.snapshot && new RolesSnapshot(config.snapshot.file, this.cache, config.maxPrincipals, log);
  }

  /** Loads the snapshot and starts rewriting it. */
  async start(): Promise<void> {
    if (!this.snapshot) return;
    await this.snapshot.load();
    this.snapshot.start(this.config.snapshot!.intervalSeconds * 1000);
  }

  /**
   * For a new session: fills the cache for `principal` if it holds no fresh answer. Waits at most
   * timeoutMs, also for a turn in the queue (a storm of new principals would otherwise hold
   * sessions for minutes): a session that stops waiting goes on as its listener's rolesOffline
   * says, and takes the answer when it comes, from its next request. Never rejects.
   */
  async lookup(principal: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.timeoutMs)));
    await Promise.race([this.cache.lookup(principal), deadline]);
    clearTimeout(timer);
  }

  /** For each request of a live session: the cached roles, without waiting. */
  peek(principal: string): Readonly<CachedRoles> | undefined {
    return this.cache.peek(principal);
  }

  phase(known: Readonly<CachedRoles> | undefined, now: number): RolesPhase {
    return rolesPhase(known, this.ttlMs, this.maxStaleMs, now);
  }

  async stop(): Promise<void> {
    await this.snapshot?.stop();
    this.cache.shutdown();
    this.client.close();
  }
}

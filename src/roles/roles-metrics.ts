import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RolesFailure } from './roles-client.js';

const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;

/** The roles source's metrics, in the proxy's registry when a rolesSource is configured. No principal reaches a label. */
export class RolesMetrics {
  readonly requests: Counter<'outcome'>;
  readonly duration: Histogram;
  readonly lookups: Counter<'result'>;
  readonly offlineSessions: Counter<'listener' | 'mode'>;
  private readonly breaker: Gauge<'state'>;

  constructor(registry: Registry, snapshotWrittenAt: () => number | undefined) {
    this.requests = new Counter({
      name: 'kafka_proxy_roles_source_requests_total',
      help: 'Requests to the permissions service, by outcome (success; timeout, unreachable, server-error, unexpected-status, malformed, too-large)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'kafka_proxy_roles_source_request_duration_seconds',
      help: 'Time the permissions service took to answer (or fail)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.lookups = new Counter({
      name: 'kafka_proxy_roles_cache_lookups_total',
      help: 'Roles looked up for new sessions, by result (hit: fresh in the cache; miss: not cached; stale: cached past its TTL, asked again)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.offlineSessions = new Counter({
      name: 'kafka_proxy_roles_offline_sessions_total',
      help: "Sessions that went on without fresh roles from the service, by listener and the mode their listener's rolesOffline gave them (last-known, deny, audit, allow-all)",
      labelNames: ['listener', 'mode'] as const,
      registers: [registry],
    });
    this.breaker = new Gauge({
      name: 'kafka_proxy_roles_source_breaker',
      help: 'Circuit breaker towards the permissions service: 1 for its state (closed, half-open, open); summed over workers',
      labelNames: ['state'] as const,
      registers: [registry],
      aggregator: 'sum',
    });
    new Gauge({
      name: 'kafka_proxy_roles_snapshot_age_seconds',
      help: 'Seconds since the roles snapshot on disk was written; absent before the first write or load',
      registers: [registry],
      aggregator: 'max',
      collect(): void {
        const writtenAt = snapshotWrittenAt();
        if (writtenAt === undefined) this.remove();
        else this.set((Date.now() - writtenAt) / 1000);
      },
    });
    this.breakerState('closed');
  }

  requested(outcome: 'success' | RolesFailure, seconds: number): void {
    this.requests.inc({ outcome });
    this.duration.observe(seconds);
  }

  breakerState(state: (typeof BREAKER_STATES)[number]): void {
    for (const s of BREAKER_STATES) this.breaker.set({ state: s }, s === state ? 1 : 0);
  }
}

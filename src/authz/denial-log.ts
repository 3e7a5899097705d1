import { LRUCache } from 'lru-cache';
import type { Logger } from '../observe/logger.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { Operation, ResourceKind } from './operations.js';

export type EnforcementMode = 'enforce' | 'audit';

export interface Denial {
  listener: string;
  mode: EnforcementMode;
  principal: string;
  clientAddress: string;
  clientId: string | null;
  api: string;
  kind: ResourceKind;
  name: string;
  /** cluster-action: what brokers need of each other, never granted to clients. */
  operation: Operation | 'cluster-action';
}

export interface DenialLogOptions {
  /** A (principal, resource, operation) is logged at most once per window. */
  windowMs?: number;
  /** How many distinct (principal, resource, operation) keys are remembered; older ones may log again. */
  maxKeys?: number;
}

/**
 * Logs each denial once as a structured line and counts every one. A client retrying a denied
 * request would otherwise write a line per retry: repeats within the window are only counted,
 * and the next line for the same key says how many were left out.
 */
export class DenialLog {
  private readonly recent: LRUCache<string, { until: number; suppressed: number }>;
  private readonly windowMs: number;

  constructor(
    private readonly log: Logger,
    private readonly metrics: ProxyMetrics | undefined,
    options: DenialLogOptions = {},
  ) {
    this.recent = new LRUCache({ max: options.maxKeys ?? 10_000 });
    this.windowMs = options.windowMs ?? 60_000;
  }

  record(d: Denial, now = Date.now()): void {
    this.metrics?.denials.inc({ listener: d.listener, api: d.api, resource: d.kind, mode: d.mode });
    const name = shortened(d.name);
    const key = `${d.listener}\0${d.mode}\0${d.principal}\0${d.kind}\0${name}\0${d.operation}`;
    const seen = this.recent.get(key);
    if (seen && now < seen.until) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.recent.set(key, { until: now + this.windowMs, suppressed: 0 });
    const fields = {
      listener: d.listener,
      principal: d.principal,
      clientAddress: d.clientAddress,
      clientId: d.clientId,
      api: d.api,
      resourceType: d.kind,
      resourceName: name,
      operation: d.operation,
      ...(suppressed ? { repeatsNotLogged: suppressed } : {}),
    };
    if (d.mode === 'audit') this.log.warn(fields, 'audit: request would be denied in enforce mode');
    else this.log.info(fields, 'authorization denied');
  }
}

/** Kafka's names stop at 249 characters; anything a client sends beyond that is cut, so neither the log nor the rate limiter holds it whole. */
const MAX_NAME = 255;

function shortened(name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME)}... (${name.length} characters)`;
}

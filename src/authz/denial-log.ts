import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observe/logger.js';
import { LineBudget } from '../observe/line-budget.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { RequestDenials } from './request-denials.js';

export type EnforcementMode = 'enforce' | 'audit';

/** Who sent a refused request: the fields every line carries (never a credential). */
export interface Requester {
  listener: string;
  principal: string;
  clientAddress: string;
  clientId: string | null;
}

export interface DenialLogOptions {
  /** The same summary (principal, API, denials) is logged at most once per window; repeats are counted on the next line. */
  windowMs?: number;
  /** How many distinct summaries are remembered; older ones may log again. */
  maxKeys?: number;
  /** Lines the whole proxy writes per second at most; the rest are counted (kafka_proxy_denial_log_lines_suppressed_total). */
  maxLinesPerSecond?: number;
}

/** Enough to see every distinct refusal in a burst, too few for a client to flood the log (a line is ~0.5 KB: at most ~50 KB/s). */
export const DEFAULT_MAX_LINES_PER_SECOND = 100;

/**
 * Logs each refused request as one structured line and counts every denied entity. Two bounds
 * keep clients from filling the log: a client retrying a denied request writes one line per
 * window (the next says how many repeats were left out), and the whole proxy writes at most
 * `maxLinesPerSecond` lines (the next line says how many were left out, and a counter has them).
 */
export class DenialLog {
  private readonly recent: LRUCache<string, { until: number; suppressed: number }>;
  private readonly windowMs: number;
  /** One kind: the budget is the whole proxy's. */
  private readonly lines: LineBudget<'denials'>;

  constructor(
    private readonly log: Logger,
    private readonly metrics: ProxyMetrics | undefined,
    options: DenialLogOptions = {},
  ) {
    this.recent = new LRUCache({ max: options.maxKeys ?? 10_000 });
    this.windowMs = options.windowMs ?? 60_000;
    this.lines = new LineBudget(options.maxLinesPerSecond ?? DEFAULT_MAX_LINES_PER_SECOND);
  }

  /** One request's denials: counted per entity, logged as one line. */
  record(who: Requester, api: string, denials: RequestDenials, now = Date.now()): void {
    const perOperation = [...denials.perOperation.values()];
    for (const { kind, count } of perOperation) this.metrics?.denials.inc({ listener: who.listener, api, resource: kind, mode: denials.mode }, count);
    const operations = Object.fromEntries(perOperation.map((e) => [`${e.kind}:${e.operation}`, e.count]));
    // A digest: the key stays small whatever names the request carried, and no summary can pass for another.
    const key = createHash('sha256')
      .update(JSON.stringify([who.listener, denials.mode, who.principal, api, denials.count, operations, denials.shown]))
      .digest('base64');
    const seen = this.recent.get(key);
    if (seen && now < seen.until) {
      seen.suppressed++;
      return;
    }
    const budget = this.takeLine(who.listener, now);
    if (budget === undefined) return;
    this.recent.set(key, { until: now + this.windowMs, suppressed: 0 });
    const fields = {
      ...requesterFields(who),
      api,
      mode: denials.mode,
      denials: denials.count,
      operations,
      resources: denials.shown,
      ...(seen?.suppressed ? { repeatsNotLogged: seen.suppressed } : {}),
      ...budget,
    };
    if (denials.mode === 'audit') this.log.warn(fields, 'audit: request would be denied in enforce mode');
    else this.log.info(fields, 'authorization denied');
  }

  /** A request refused whole, before any decision, for naming more entities than the proxy accepts. */
  tooManyEntities(who: Requester, api: string, entities: number, limit: number, answer: 'error response' | 'connection closed', now = Date.now()): void {
    this.metrics?.requestsRefused.inc({ listener: who.listener, api, reason: 'too-many-entities' });
    const budget = this.takeLine(who.listener, now);
    if (budget === undefined) return;
    this.log.warn({ ...requesterFields(who), api, entities, limit, answer, ...budget }, 'request names more entities than the proxy accepts; refused');
  }

  /** Fields for a line the proxy-wide budget allows (saying how many it left out before), or undefined when it is spent. */
  private takeLine(listener: string, now: number): { linesSuppressed?: number } | undefined {
    const allowed = this.lines.take('denials', now);
    if (!allowed) {
      this.metrics?.denialLinesSuppressed.inc({ listener });
      return undefined;
    }
    return allowed.notLogged ? { linesSuppressed: allowed.notLogged } : {};
  }
}

function requesterFields(who: Requester) {
  return { listener: who.listener, principal: who.principal, clientAddress: who.clientAddress, clientId: who.clientId };
}

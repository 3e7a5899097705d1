import type { Logger } from 'pino';
import { LineBudget } from '../observe/line-budget.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { AcceptLimit } from './connection-limits.js';

/** A proxy-wide memory budget that closed a connection: it asked for more than was left, or held the most when another asked. */
export type BudgetRefusal = 'preauth-bytes' | 'request-bytes' | 'held-responses';

export type RefusalReason = AcceptLimit | BudgetRefusal;

/**
 * Counts every connection a limit refused, and logs at most one line per reason per second: a
 * flood of refused connections cannot flood the log; the next line says how many went unlogged.
 */
export class ConnectionRefusals {
  private readonly lines: LineBudget<RefusalReason>;

  constructor(
    private readonly listener: string,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
    now?: () => number,
  ) {
    this.lines = new LineBudget(1, now);
  }

  record(reason: RefusalReason, clientIp: string): void {
    this.metrics.connectionsRefused.inc({ listener: this.listener, reason });
    const line = this.lines.take(reason);
    if (line) this.log.warn({ reason, client: clientIp, refusedNotLogged: line.notLogged }, 'connection refused by a limit');
  }
}

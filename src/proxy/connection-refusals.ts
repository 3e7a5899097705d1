import type { Logger } from 'pino';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { AcceptLimit } from './connection-limits.js';

export type RefusalReason = AcceptLimit | 'preauth-bytes';

const LOG_INTERVAL_MS = 1000;

/**
 * Counts every connection a limit refused, and logs at most one line per reason per second: a
 * flood of refused connections cannot flood the log; the next line says how many went unlogged.
 */
export class ConnectionRefusals {
  private readonly lastLine = new Map<RefusalReason, { at: number; notLogged: number }>();

  constructor(
    private readonly listener: string,
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
    private readonly now: () => number = () => Date.now(),
  ) {}

  record(reason: RefusalReason, clientIp: string): void {
    this.metrics.connectionsRefused.inc({ listener: this.listener, reason });
    const now = this.now();
    const last = this.lastLine.get(reason);
    if (last && now - last.at < LOG_INTERVAL_MS) {
      last.notLogged++;
      return;
    }
    this.log.warn({ reason, client: clientIp, refusedNotLogged: last?.notLogged ?? 0 }, 'connection refused by a limit');
    this.lastLine.set(reason, { at: now, notLogged: 0 });
  }
}

import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ProxyConfig } from '../config/schema.js';
import type { MigrationNews } from '../migration/migration-progress.js';
import type { WorkerStatus } from '../observe/proxy-status.js';

/** One registry's metrics as prom-client serializes them (registry.getMetricsAsJSON()). */
export type MetricsReport = MetricObjectWithValues<MetricValue<string>>[];

/** What the supervisor tells a worker, over the cluster IPC channel. */
export type ToWorker =
  /**
   * The accepted config (the whole proxy's; the worker takes its share), how many workers share
   * it, the secret (base64) TLS listeners derive their session-ticket keys from, and whether to
   * wait for the brokers rather than fail (the first workers of a proxy that starts before them).
   */
  | { type: 'start'; config: ProxyConfig; workers: number; tlsTicketSecret: string; waitForBrokers: boolean }
  /** Apply `config` in place (it needs no new sockets); with `files`, then re-read credentials, JWKS, policy and certificates. */
  | { type: 'reload'; id: number; config: ProxyConfig; workers: number; files: boolean }
  /** Say what it serves and whether it is ready (admin /status, /readyz). */
  | { type: 'describe'; id: number }
  /** Stop accepting, let in-flight requests finish within graceMs, close, report metrics a last time, exit. */
  | { type: 'drain'; graceMs: number }
  | { type: 'metrics'; id: number };

/** What a worker tells the supervisor. */
export type FromWorker =
  /** The worker listens for messages: send it 'start' (anything sent earlier could be lost). */
  | { type: 'up' }
  /** Every listener accepts. */
  | { type: 'ready' }
  | { type: 'start-failed'; error: string }
  | { type: 'reloaded'; id: number; error?: string }
  | { type: 'described'; id: number; status: WorkerStatus }
  | { type: 'metrics'; id: number; metrics: MetricsReport }
  /** Sent by a drained worker just before it exits, so its counters outlive it. */
  | { type: 'final-metrics'; metrics: MetricsReport }
  /** Sent every few seconds, and before final-metrics: what a crash of this worker would cost, and clients new to its access recorder. */
  | { type: 'status'; connections: number; migration?: MigrationNews };

const FROM_WORKER_TYPES = new Set<FromWorker['type']>(['up', 'ready', 'start-failed', 'reloaded', 'described', 'metrics', 'final-metrics', 'status']);
const TO_WORKER_TYPES = new Set<ToWorker['type']>(['start', 'reload', 'describe', 'drain', 'metrics']);

function typed(message: unknown): string | undefined {
  return typeof message === 'object' && message !== null && typeof (message as { type?: unknown }).type === 'string' ? (message as { type: string }).type : undefined;
}

/** The channel also carries node:cluster's own messages; these are ours. */
export function isFromWorker(message: unknown): message is FromWorker {
  return FROM_WORKER_TYPES.has(typed(message) as FromWorker['type']);
}

export function isToWorker(message: unknown): message is ToWorker {
  return TO_WORKER_TYPES.has(typed(message) as ToWorker['type']);
}

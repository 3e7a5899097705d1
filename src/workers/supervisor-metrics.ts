import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { plaintextClientsGauge } from '../observe/metrics.js';
import type { WorkerState } from './worker-handle.js';

/** The supervisor's own metrics: the workers' lives. Its process metrics add to the workers' in the proxy-wide view. */
export class SupervisorMetrics {
  readonly registry = new Registry();

  readonly workers: Gauge<'state'>;

  readonly crashes = new Counter({
    name: 'kafka_proxy_worker_crashes_total',
    help: 'Worker processes that died without being asked to (each replaced at once; only its own connections were lost)',
    registers: [this.registry],
  });

  readonly connectionsLost = new Counter({
    name: 'kafka_proxy_worker_crash_connections_lost_total',
    help: 'Client connections the crashed workers held, as each last reported (at most 5 s old)',
    registers: [this.registry],
  });

  readonly restarts = new Counter({
    name: 'kafka_proxy_worker_restarts_total',
    help: 'Rolling restarts of all workers (SIGUSR2, or a config reload that needs new sockets), by result (complete; failed: the new workers did not start, the old ones kept serving)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly reloads = new Counter({
    name: 'kafka_proxy_config_reloads_total',
    help: 'SIGHUP reloads, by result (in-place; restart: the change needed new workers; refused: the config file has problems, nothing changed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(countWorkers: () => Record<WorkerState, number>, stillOnPlaintext: () => number) {
    plaintextClientsGauge(this.registry, stillOnPlaintext);
    this.workers = new Gauge({
      name: 'kafka_proxy_workers',
      help: 'Worker processes, by state (starting, ready: accepting connections, draining: finishing in-flight requests before exiting)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        for (const [state, count] of Object.entries(countWorkers())) this.set({ state }, count);
      },
    });
    // The supervisor forwards nothing, so its event-loop delay needs no fine sampling: prom-client's
    // default (every 10 ms) would cost it ~3 ms of CPU a second, idle.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
  }
}

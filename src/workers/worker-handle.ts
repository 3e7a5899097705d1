import cluster, { type Worker } from 'node:cluster';
import type { ProxyConfig } from '../config/schema.js';
import type { MigrationNews } from '../migration/migration-progress.js';
import { type FromWorker, type MetricsReport, type ToWorker, isFromWorker } from './messages.js';

export type WorkerState = 'starting' | 'ready' | 'draining';

/** After shutdownGraceMs a draining worker closes what is left (each socket gets 5 s to flush); past this much more it is killed. */
const DRAIN_KILL_MARGIN_MS = 10_000;
/** An exited worker's channel closes at once; this only guards against it never saying so. */
const DISCONNECT_WAIT_MS = 1_000;

export interface WorkerEvents {
  /** What the worker starts with, asked when it is up to receive it (a reload may have come after the fork). */
  startWith(handle: WorkerHandle): ProxyConfig;
  ready(handle: WorkerHandle): void;
  /** Clients the worker's access recorder saw first since its last status. */
  migrationNews(news: MigrationNews): void;
  /** The worker process ended; `state` is the one it was in. */
  exited(handle: WorkerHandle, state: WorkerState, code: number | null, signal: string | null): void;
}

/**
 * The supervisor's side of one worker process: starts it with its config, knows its state,
 * asks it things and waits for the answers, drains it.
 */
export class WorkerHandle {
  state: WorkerState = 'starting';
  /** Connections the worker last said it holds: what its crash costs. */
  connections = 0;
  /** What a drained worker counted, sent just before it exited. */
  finalMetrics: MetricsReport | undefined;
  /** The config the worker runs (the whole proxy's; it takes its share of the limits); undefined until it is sent one. */
  config: ProxyConfig | undefined;
  private readonly worker: Worker;
  private readonly replies = new Map<number, (message: FromWorker | undefined) => void>();
  private readonly started: Promise<void>;
  private readonly gone: Promise<void>;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly workers: number,
    readonly generation: number,
    /**
     * How long it may take to accept; undefined for the first workers of a proxy, which wait
     * for the brokers as long as it takes (not ready meanwhile) rather than fail.
     */
    startTimeoutMs: number | undefined,
    /** Encrypts TLS session tickets: the same for every worker, so tickets resume on any of them. */
    tlsTicketSecret: string,
    events: WorkerEvents,
  ) {
    this.worker = cluster.fork();
    let started: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => ((started = resolve), (failed = reject)));
    // Waited on only by whoever restarts or replaces: a failed start is theirs to report.
    this.started.catch(() => {});
    let timedOut = false;
    const timer =
      startTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            failed(new Error(`worker ${this.id} did not accept within ${startTimeoutMs} ms`));
            this.worker.process.kill('SIGKILL');
          }, startTimeoutMs);
    this.worker.on('message', (message: unknown) => {
      if (!isFromWorker(message)) return;
      switch (message.type) {
        case 'up':
          this.config = events.startWith(this);
          this.send({ type: 'start', config: this.config, workers, tlsTicketSecret, waitForBrokers: startTimeoutMs === undefined });
          return;
        case 'ready':
          // Too late: it is being killed, and whoever started it has heard it failed.
          if (timedOut) return;
          clearTimeout(timer);
          this.state = 'ready';
          started();
          events.ready(this);
          return;
        case 'start-failed':
          clearTimeout(timer);
          failed(new Error(message.error));
          return;
        case 'status':
          this.connections = message.connections;
          if (message.migration) events.migrationNews(message.migration);
          return;
        case 'final-metrics':
          this.finalMetrics = message.metrics;
          return;
        case 'metrics':
        case 'reloaded':
        case 'described':
          this.replies.get(message.id)?.(message);
          return;
      }
    });
    this.gone = new Promise<void>((resolve) => {
      // A process the OS would not start (no pids, no file descriptors) never exits: it is gone at once.
      this.worker.on('error', (e: Error) => {
        failed(e);
        if (this.worker.process.pid !== undefined) return;
        clearTimeout(timer);
        resolve();
        events.exited(this, this.state, null, null);
      });
      this.worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(this.killTimer);
        failed(new Error(`worker ${this.id} exited before it accepted (${signal ?? `code ${code}`})`));
        // Messages still in the channel (its final metrics) arrive before it disconnects.
        this.whenDisconnected().then(() => {
          for (const reply of this.replies.values()) reply(undefined);
          const state = this.state;
          resolve();
          events.exited(this, state, code, signal);
        });
      });
    });
  }

  private whenDisconnected(): Promise<void> {
    if (!this.worker.isConnected()) return Promise.resolve();
    return new Promise((resolve) => {
      const fallback = setTimeout(resolve, DISCONNECT_WAIT_MS);
      this.worker.once('disconnect', () => {
        clearTimeout(fallback);
        resolve();
      });
    });
  }

  get id(): number {
    return this.worker.id;
  }

  get pid(): number | undefined {
    return this.worker.process.pid;
  }

  /** Resolves once every listener of the worker accepts; rejects if it fails to start. */
  whenReady(): Promise<void> {
    return this.started;
  }

  /** Resolves once the process has exited. */
  whenGone(): Promise<void> {
    return this.gone;
  }

  /** Sends `message` and waits for the answer with its id; undefined if none comes within `timeoutMs` or the worker exits. */
  ask(message: Extract<ToWorker, { id: number }>, timeoutMs: number): Promise<FromWorker | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => answer(undefined), timeoutMs);
      const answer = (reply: FromWorker | undefined) => {
        clearTimeout(timer);
        this.replies.delete(message.id);
        resolve(reply);
      };
      this.replies.set(message.id, answer);
      this.send(message);
    });
  }

  /** Stops it accepting and lets it finish in-flight requests within graceMs; kills it if it is still there well after. */
  drain(graceMs: number): Promise<void> {
    if (this.state === 'starting') return this.kill();
    if (this.state !== 'draining') {
      this.state = 'draining';
      this.send({ type: 'drain', graceMs });
      this.killTimer = setTimeout(() => this.worker.process.kill('SIGKILL'), graceMs + DRAIN_KILL_MARGIN_MS);
    }
    return this.gone;
  }

  kill(): Promise<void> {
    this.worker.process.kill('SIGKILL');
    return this.gone;
  }

  private send(message: ToWorker): void {
    // A worker that just died has no channel; its exit event follows.
    if (this.worker.isConnected()) this.worker.send(message, undefined, () => {});
  }
}

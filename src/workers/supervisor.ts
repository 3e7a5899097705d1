import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from '../config/load.js';
import { changesNeedingRestart } from '../config/reload-plan.js';
import type { ProxyConfig } from '../config/schema.js';
import { workerCount } from '../config/worker-share.js';
import { startAdminServer } from '../observe/admin-server.js';
import type { Logger } from '../observe/logger.js';
import { ProxyWideMetrics } from './proxy-wide-metrics.js';
import { SupervisorMetrics } from './supervisor-metrics.js';
import { newTicketSecret } from '../tls/ticket-keys.js';
import { WorkerHandle, type WorkerState } from './worker-handle.js';

/** How long a scrape waits for each worker's metrics before using its previous report. */
const METRICS_WAIT_MS = 2_000;
/** How long a reload waits for each worker to apply it. */
const RELOAD_WAIT_MS = 30_000;
/** A replacement that cannot start is retried after this long, doubling up to the maximum. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Crashes within this long count as a loop: each one more waits longer before its replacement starts. */
const CRASH_LOOP_WINDOW_MS = 60_000;

/** Where the admin endpoint listens, as configured (compared as written, not as resolved). */
interface AdminBinding {
  bind: string;
  port: number;
}

/** The workers started together with one config; a restart makes the next one. */
interface Generation {
  number: number;
  config: ProxyConfig;
  workers: number;
}

/**
 * The supervisor process: forks the workers (node:cluster, round-robin: it accepts each
 * connection and hands it to a worker; requests and responses never pass through it), replaces a
 * worker that dies, restarts all of them without refusing a connection, applies reloads, serves
 * the admin endpoint for the whole proxy, and stops them all gracefully.
 */
export class Supervisor {
  private readonly handles = new Set<WorkerHandle>();
  private current: Generation;
  private generations = 1;
  private requests = 0;
  private stopping = false;
  /** The running restart, and at most one waiting behind it. */
  private restarting: Promise<void> | undefined;
  private queuedRestart: string | undefined;
  /** While a restart's new workers start with the config read for it: a reload then needs another restart. */
  private newGenerationStarting = false;
  /** When recent crashes happened, to slow a crash loop down. */
  private recentCrashes: number[] = [];
  private admin: (AdminBinding & { server: Server }) | undefined;
  /** Made once: workers of every generation share it, so TLS session tickets resume across workers and restarts. */
  private readonly tlsTicketSecret = newTicketSecret().toString('base64');
  private readonly metrics: SupervisorMetrics;
  private readonly proxyWide: ProxyWideMetrics;

  private constructor(
    private readonly configFile: string,
    config: ProxyConfig,
    private readonly log: Logger,
  ) {
    this.current = { number: 1, config, workers: workerCount(config.workers) };
    this.metrics = new SupervisorMetrics(() => this.countByState());
    this.proxyWide = new ProxyWideMetrics(this.metrics.registry);
  }

  /** Starts the first workers and the admin endpoint; rejects (after stopping what started) if the workers cannot start. */
  static async start(configFile: string, config: ProxyConfig, log: Logger): Promise<Supervisor> {
    cluster.schedulingPolicy = cluster.SCHED_RR;
    const supervisor = new Supervisor(configFile, config, log);
    const first = supervisor.current;
    log.info({ workers: first.workers, generation: first.number }, 'starting workers');
    try {
      await supervisor.admitted(supervisor.fork(first));
      await supervisor.bindAdmin(config.admin);
    } catch (e) {
      await supervisor.stop(0);
      throw e;
    }
    log.info({ workers: first.workers, generation: first.number }, 'workers ready');
    return supervisor;
  }

  /** SIGUSR2: new workers from the code and config on disk take over; the old ones drain. */
  restart(reason: string): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.restarting) {
      this.log.info({ reason }, 'a restart is running; this one follows it');
      this.queuedRestart = reason;
      return this.restarting;
    }
    this.restarting = this.restartOnce(reason).finally(() => {
      this.restarting = undefined;
      const queued = this.queuedRestart;
      this.queuedRestart = undefined;
      if (queued) this.restart(queued).catch((e: Error) => this.log.error({ err: e.message }, 'restart failed'));
    });
    return this.restarting;
  }

  /** SIGHUP: re-reads the config; applies it in place where it can, else restarts the workers with it. */
  async reload(): Promise<void> {
    if (this.stopping) return;
    const next = this.readConfig('reload');
    // A broken config file must not keep a removed credential or key alive: the files are re-read anyway.
    if (!next) {
      await this.reReadFiles();
      return;
    }
    this.log.level = next.logging.level;
    await this.bindAdmin(next.admin).catch((e: Error) => this.log.error({ err: e.message }, 'the admin endpoint stays where it was'));
    const changes = changesNeedingRestart(this.current.config, next);
    if (workerCount(next.workers) !== this.current.workers) changes.push('workers');
    if (changes.length > 0 || this.newGenerationStarting) {
      this.metrics.reloads.inc({ result: 'restart' });
      this.log.info({ changes }, 'the config changes need new workers');
      await this.reReadFiles();
      return this.restart('config reload');
    }
    this.metrics.reloads.inc({ result: 'in-place' });
    this.current = { ...this.current, config: next };
    const workers = await this.reReadFiles();
    if (workers !== undefined) this.log.info({ workers }, 'reloaded in place');
  }

  /**
   * Every accepting worker applies the current config in place and re-reads credentials, JWKS,
   * policy and certificates. Resolves with how many did, or undefined after logging the failures.
   */
  private async reReadFiles(): Promise<number | undefined> {
    const ready = [...this.handles].filter((h) => h.state === 'ready');
    const errors = (await Promise.all(ready.map((h) => this.applyInPlace(h)))).filter((e) => e !== undefined);
    if (errors.length === 0) return ready.length;
    this.log.error({ workers: ready.length, errors }, 'reload failed in some workers');
    return undefined;
  }

  /** SIGTERM: every worker drains (in-flight requests finish within shutdownGraceMs), then the admin endpoint closes. */
  async stop(graceMs = this.current.config.limits.shutdownGraceMs): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.handles].map((h) => h.drain(graceMs)));
    if (this.admin) await closeServer(this.admin.server);
    this.log.info('stopped');
  }

  private async restartOnce(reason: string): Promise<void> {
    const config = this.readConfig('restart');
    if (!config) {
      this.metrics.restarts.inc({ result: 'failed' });
      return;
    }
    const started = Date.now();
    const next: Generation = { number: ++this.generations, config, workers: workerCount(config.workers) };
    this.log.info({ reason, generation: next.number, workers: next.workers }, 'restarting workers');
    const fresh = this.fork(next);
    // A new worker that dies before the switch fails the restart: its generation would start one short, or empty.
    const died = Promise.race(fresh.map((h) => h.whenGone().then(() => Promise.reject(new Error(`new worker ${h.id} exited before the switch`)))));
    died.catch(() => {});
    this.newGenerationStarting = true;
    try {
      await Promise.race([this.admitted(fresh), died]);
    } catch (e) {
      this.newGenerationStarting = false;
      await Promise.all(fresh.map((h) => h.drain(config.limits.shutdownGraceMs)));
      if (this.stopping) return;
      this.metrics.restarts.inc({ result: 'failed' });
      this.log.error({ reason: (e as Error).message, generation: this.current.number }, 'restart failed; the running workers carry on');
      return;
    }
    this.newGenerationStarting = false;
    if (this.stopping) return;
    this.current = next;
    this.log.level = config.logging.level;
    // Every older worker, including replacements forked while the new ones started.
    const old = [...this.handles].filter((h) => h.generation !== next.number);
    await Promise.all(old.map((h) => h.drain(config.limits.shutdownGraceMs)));
    this.metrics.restarts.inc({ result: 'complete' });
    this.log.info({ generation: next.number, workers: next.workers, tookMs: Date.now() - started }, 'restart complete');
  }

  /** Forks a generation's workers. */
  private fork(generation: Generation): WorkerHandle[] {
    return Array.from({ length: generation.workers }, () => this.forkOne(generation));
  }

  private forkOne(generation: Generation): WorkerHandle {
    const { config, workers, number } = generation;
    // Cluster discovery may try each bootstrap server for connectTimeoutMs.
    const startTimeoutMs = Math.max(60_000, 3 * config.limits.connectTimeoutMs);
    const handle = new WorkerHandle(workers, number, startTimeoutMs, this.tlsTicketSecret, {
      // A replacement of the current generation starts with the config of the latest in-place reload.
      startWith: () => (number === this.current.number ? this.current.config : config),
      ready: (h) => this.workerReady(h),
      exited: (h, state, code, signal) => this.workerExited(h, state, code, signal),
    });
    this.handles.add(handle);
    this.log.info({ worker: handle.id, pid: handle.pid, generation: number }, 'worker started');
    return handle;
  }

  /** Resolves when every one of `handles` accepts; rejects with the first failure. */
  private async admitted(handles: WorkerHandle[]): Promise<void> {
    await Promise.all(handles.map((h) => h.whenReady()));
  }

  private workerReady(handle: WorkerHandle): void {
    this.log.info({ worker: handle.id, pid: handle.pid, generation: handle.generation }, 'worker ready');
    // A replacement that was sent its config before an in-place reload: bring it up to date.
    if (handle.generation !== this.current.number || handle.config === this.current.config) return;
    void this.applyInPlace(handle).then((error) => {
      if (error) this.log.error({ worker: handle.id, err: error }, 'a new worker could not apply the latest reload; it runs the config it started with');
    });
  }

  private workerExited(handle: WorkerHandle, state: WorkerState, code: number | null, signal: string | null): void {
    this.handles.delete(handle);
    this.proxyWide.retire(handle.id, handle.finalMetrics);
    const fields = { worker: handle.id, pid: handle.pid, generation: handle.generation, code, signal };
    if (this.stopping || state === 'draining' || handle.generation !== this.current.number) {
      this.log.info(fields, 'worker exited');
      return;
    }
    if (state === 'starting') return; // Whoever started it reports the failure.
    this.metrics.crashes.inc();
    this.metrics.connectionsLost.inc(handle.connections);
    const now = Date.now();
    this.recentCrashes = [...this.recentCrashes.filter((t) => now - t < CRASH_LOOP_WINDOW_MS), now];
    // The first crash is replaced at once; more within the window wait 1 s, 2 s, ... up to 30 s.
    const delayMs = this.recentCrashes.length < 2 ? 0 : Math.min(RETRY_FIRST_MS * 2 ** (this.recentCrashes.length - 2), RETRY_MAX_MS);
    this.log.error({ ...fields, connections: handle.connections, ...(delayMs > 0 ? { recentCrashes: this.recentCrashes.length, replacingInMs: delayMs } : {}) }, 'worker crashed');
    void this.replace(this.current, delayMs);
  }

  /** Forks a worker in place of one that crashed (after `delayMs`), retrying with a growing wait while it cannot start. */
  private async replace(generation: Generation, delayMs: number): Promise<void> {
    // By number: an in-place reload replaces the current generation's config, not the generation.
    const same = () => generation.number === this.current.number;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    for (let waitMs = RETRY_FIRST_MS; !this.stopping && same(); waitMs = Math.min(2 * waitMs, RETRY_MAX_MS)) {
      try {
        return await this.forkOne(this.current).whenReady();
      } catch (e) {
        if (this.stopping || !same()) return;
        this.log.error({ err: (e as Error).message, retryInMs: waitMs }, 'cannot start a replacement worker');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private async applyInPlace(handle: WorkerHandle): Promise<string | undefined> {
    const { config, workers } = this.current;
    const reply = await handle.ask({ type: 'reload', id: ++this.requests, config, workers }, RELOAD_WAIT_MS);
    if (!reply) return `worker ${handle.id}: no answer within ${RELOAD_WAIT_MS} ms`;
    if (reply.type === 'reloaded' && reply.error !== undefined) return `worker ${handle.id}: ${reply.error}`;
    handle.config = config;
    return undefined;
  }

  /** The config file as it is now; undefined, after saying why, when it has problems. */
  private readConfig(what: 'reload' | 'restart'): ProxyConfig | undefined {
    try {
      return loadConfig(this.configFile);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (what === 'reload') this.metrics.reloads.inc({ result: 'refused' });
      this.log.error({ problems: e.problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`) }, `${what} refused: the config file has problems; nothing changed`);
      return undefined;
    }
  }

  /**
   * Serves the admin endpoint where `admin` says, moving it if that changed: the new address is
   * bound before the old one closes, so a failed move leaves the endpoint where it was (and
   * rejects); only a move to another address on the same port closes the old one first.
   */
  private async bindAdmin(admin: ProxyConfig['admin']): Promise<void> {
    const binding = admin && { bind: admin.bind, port: admin.port };
    const old = this.admin;
    if (old && binding && old.bind === binding.bind && old.port === binding.port) return;
    if (!binding) {
      this.admin = undefined;
      if (old) await closeServer(old.server);
      return;
    }
    let server: Server;
    try {
      server = await this.listenAdmin(binding);
    } catch (e) {
      if (!old || old.port !== binding.port) throw e;
      await closeServer(old.server);
      this.admin = undefined;
      try {
        server = await this.listenAdmin(binding);
      } catch (again) {
        this.admin = { ...old, server: await this.listenAdmin(old) };
        throw again;
      }
    }
    this.admin = { server, ...binding };
    if (old?.server.listening) await closeServer(old.server);
    this.log.info(binding, 'admin server listening (/metrics, /healthz)');
  }

  private listenAdmin({ bind, port }: AdminBinding): Promise<Server> {
    const source = {
      contentType: this.proxyWide.contentType,
      metrics: () => this.scrape(),
      workerMetrics: (id: number) => this.scrapeWorker(id),
      healthy: () => [...this.handles].some((h) => h.state === 'ready'),
    };
    return startAdminServer(bind, port, source, (e) => this.log.error({ err: e.message }, 'admin server error'));
  }

  private async scrape(): Promise<string> {
    await Promise.all([...this.handles].map((h) => this.refreshMetrics(h)));
    return this.proxyWide.text();
  }

  private async scrapeWorker(id: number): Promise<string | undefined> {
    const handle = [...this.handles].find((h) => h.id === id);
    if (!handle) return undefined;
    await this.refreshMetrics(handle);
    return this.proxyWide.workerText(id);
  }

  private async refreshMetrics(handle: WorkerHandle): Promise<void> {
    const reply = await handle.ask({ type: 'metrics', id: ++this.requests }, METRICS_WAIT_MS);
    if (reply?.type === 'metrics' && this.handles.has(handle)) this.proxyWide.report(handle.id, reply.metrics);
  }

  private countByState(): Record<WorkerState, number> {
    const counts: Record<WorkerState, number> = { starting: 0, ready: 0, draining: 0 };
    for (const h of this.handles) counts[h.state]++;
    return counts;
  }
}

/** Stops listening and ends its keep-alive connections (a scraper's), so the port is free at once. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

import cluster from 'node:cluster';
import { ConfigError, loadConfig } from '../config/load.js';
import { changesNeedingRestart } from '../config/reload-plan.js';
import { DEFAULT_MAX_IDENTITIES, type ProxyConfig } from '../config/schema.js';
import { MigrationProgress } from '../migration/migration-progress.js';
import { workerCount } from '../config/worker-share.js';
import type { AdminAnswer, AdminCaller, AdminSource } from '../observe/admin-server.js';
import type { Logger } from '../observe/logger.js';
import type { ListenerMode } from '../proxy/listener-authorization.js';
import { newTicketSecret } from '../tls/ticket-keys.js';
import { AdminEndpoint } from './admin-endpoint.js';
import { ModeOverrides } from './mode-overrides.js';
import { ProxyWideMetrics } from './proxy-wide-metrics.js';
import { type Readiness, type WorkerEntry, proxyWideStatus, readinessOf } from './proxy-wide-status.js';
import { SupervisorMetrics } from './supervisor-metrics.js';
import { WorkerHandle, type WorkerState } from './worker-handle.js';

/** How long a scrape waits for each worker's metrics before using its previous report. */
const METRICS_WAIT_MS = 2_000;
/** How long /status and /readyz wait for each worker to describe itself. */
const DESCRIBE_WAIT_MS = 2_000;
const LISTENER_MODES: readonly ListenerMode[] = ['enforce', 'audit', 'allow-all'];
/** How long a reload waits for each worker to apply it. */
const RELOAD_WAIT_MS = 30_000;
/** A replacement that cannot start is retried after this long, doubling up to the maximum. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;
/** Crashes within this long count as a loop: each one more waits longer before its replacement starts. */
const CRASH_LOOP_WINDOW_MS = 60_000;

/** The workers started together with one config; a restart makes the next one. */
interface Generation {
  number: number;
  /** The config file as read. */
  fileConfig: ProxyConfig;
  /** What the workers run: the file's, with the admin's mode overrides. */
  config: ProxyConfig;
  workers: number;
}

/** What a reload did (POST /reload answers with it). */
export type ReloadOutcome =
  | { result: 'in-place'; workers: number | undefined }
  | { result: 'restart'; changes: string[]; restarted: boolean | undefined }
  | { result: 'refused'; problems: string[] };

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
  private readonly admin: AdminEndpoint;
  private readonly overrides = new ModeOverrides();
  /** Made once: workers of every generation share it, so TLS session tickets resume across workers and restarts. */
  private readonly tlsTicketSecret = newTicketSecret().toString('base64');
  private readonly metrics: SupervisorMetrics;
  private readonly proxyWide: ProxyWideMetrics;
  /** Every worker's plaintext and authenticated clients together: kafka_proxy_plaintext_clients for the whole proxy. */
  private readonly migration: MigrationProgress;

  constructor(
    private readonly configFile: string,
    config: ProxyConfig,
    private readonly log: Logger,
  ) {
    this.current = { number: 1, fileConfig: config, config, workers: workerCount(config.workers) };
    // Workers of later generations add to the same count: a restart does not start the migration over.
    this.migration = new MigrationProgress(config.accessRecording?.maxIdentities ?? DEFAULT_MAX_IDENTITIES);
    this.metrics = new SupervisorMetrics(() => this.countByState(), () => this.migration.stillOnPlaintext);
    this.proxyWide = new ProxyWideMetrics(this.metrics.registry);
    this.admin = new AdminEndpoint(this.adminSource(), log);
  }

  /**
   * Starts the admin endpoint (its probes answer while the workers start: alive, not ready) and
   * the first workers, which wait for the brokers as long as it takes; rejects (after stopping
   * what started) if the admin endpoint or the workers cannot start. A stop() while it runs
   * (SIGTERM during start) ends it: it then resolves, and the stop does the rest.
   */
  async start(): Promise<void> {
    cluster.schedulingPolicy = cluster.SCHED_RR;
    const first = this.current;
    this.log.info({ workers: first.workers, generation: first.number }, 'starting workers');
    try {
      await this.admin.configure(first.config.admin);
      await this.admitted(this.fork(first, { waitForBrokers: true }));
    } catch (e) {
      if (this.stopping) return;
      await this.stop(0);
      throw e;
    }
    if (!this.stopping) this.log.info({ workers: first.workers, generation: first.number }, 'workers ready');
  }

  /**
   * SIGUSR2: new workers from the code and config on disk take over; the old ones drain.
   * Resolves whether it completed; undefined when it waits behind a running restart.
   */
  async restart(reason: string): Promise<boolean | undefined> {
    if (this.stopping) return false;
    if (this.restarting) {
      this.log.info({ reason }, 'a restart is running; this one follows it');
      this.queuedRestart = reason;
      await this.restarting;
      return undefined;
    }
    const running = this.restartOnce(reason);
    this.restarting = running.then(() => undefined).finally(() => {
      this.restarting = undefined;
      const queued = this.queuedRestart;
      this.queuedRestart = undefined;
      if (queued) this.restart(queued).catch((e: Error) => this.log.error({ err: e.message }, 'restart failed'));
    });
    return running;
  }

  /** SIGHUP and POST /reload: re-reads the config; applies it in place where it can, else restarts the workers with it. */
  async reload(): Promise<ReloadOutcome | undefined> {
    if (this.stopping) return undefined;
    const read = this.readConfig('reload');
    // A broken config file must not keep a removed credential or key alive: the files are re-read anyway.
    if ('problems' in read) {
      await this.broadcast(true);
      return { result: 'refused', problems: read.problems };
    }
    const fileConfig = read.config;
    this.log.level = fileConfig.logging.level;
    await this.admin.configure(fileConfig.admin).catch((e: Error) => this.log.error({ err: e.message }, 'the admin endpoint stays where it was'));
    const changes = changesNeedingRestart(this.current.fileConfig, fileConfig);
    if (workerCount(fileConfig.workers) !== this.current.workers) changes.push('workers');
    if (changes.length > 0 || this.newGenerationStarting) {
      this.metrics.reloads.inc({ result: 'restart' });
      this.log.info({ changes }, 'the config changes need new workers');
      await this.broadcast(true);
      return { result: 'restart', changes, restarted: await this.restart('config reload') };
    }
    this.metrics.reloads.inc({ result: 'in-place' });
    this.current = { ...this.current, fileConfig, config: this.withOverrides(fileConfig) };
    const workers = await this.broadcast(true);
    if (workers !== undefined) this.log.info({ workers }, 'reloaded in place');
    return { result: 'in-place', workers };
  }

  /**
   * Every accepting worker applies the current config in place and, with `files`, re-reads
   * credentials, JWKS, policy and certificates. Resolves with how many did, or undefined after
   * logging the failures.
   */
  private async broadcast(files: boolean): Promise<number | undefined> {
    const ready = [...this.handles].filter((h) => h.state === 'ready');
    const errors = (await Promise.all(ready.map((h) => this.applyInPlace(h, files)))).filter((e) => e !== undefined);
    if (errors.length === 0) return ready.length;
    this.log.error({ workers: ready.length, errors }, 'reload failed in some workers');
    return undefined;
  }

  /** The file's config with the live mode overrides; says which overrides the file ended. */
  private withOverrides(fileConfig: ProxyConfig): ProxyConfig {
    const { config, ended } = this.overrides.applyTo(fileConfig);
    for (const { listener, reason } of ended) this.log.warn({ listener, reason }, 'the admin mode override of this listener ends');
    return config;
  }

  /** POST /listeners/{name}/mode: switches a listener's mode live on every worker, over the config file's, until switched back. */
  async setMode(listener: string, mode: unknown, caller: AdminCaller): Promise<AdminAnswer> {
    const configured = this.current.fileConfig.listeners.find((l) => l.name === listener);
    if (!configured) return { status: 404, body: { error: `no listener named ${JSON.stringify(listener.slice(0, 100))}` } };
    if (!LISTENER_MODES.includes(mode as ListenerMode)) return { status: 400, body: { error: `mode must be one of ${LISTENER_MODES.join(', ')}` } };
    const from = this.current.config.listeners.find((l) => l.name === listener)!.mode;
    const to = mode as ListenerMode;
    const override = this.overrides.set(listener, to, configured.mode, caller);
    this.current = { ...this.current, config: this.withOverrides(this.current.fileConfig) };
    this.log.warn({ listener, from, to, configuredMode: configured.mode, by: caller.by, address: caller.address, override }, 'listener mode switched through the admin endpoint');
    const workers = await this.broadcast(false);
    const body = { listener, mode: to, configuredMode: configured.mode, override, workers };
    return workers === undefined ? { status: 500, body: { ...body, error: 'some workers did not apply it: see the log' } } : { status: 200, body };
  }

  /** SIGTERM: every worker drains (in-flight requests finish within shutdownGraceMs), then the admin endpoint closes. */
  async stop(graceMs = this.current.config.limits.shutdownGraceMs): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.handles].map((h) => h.drain(graceMs)));
    await this.admin.close();
    this.log.info('stopped');
  }

  private async restartOnce(reason: string): Promise<boolean> {
    const read = this.readConfig('restart');
    if ('problems' in read) {
      this.metrics.restarts.inc({ result: 'failed' });
      return false;
    }
    const started = Date.now();
    const fileConfig = read.config;
    const config = this.withOverrides(fileConfig);
    const next: Generation = { number: ++this.generations, fileConfig, config, workers: workerCount(config.workers) };
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
      if (this.stopping) return false;
      this.metrics.restarts.inc({ result: 'failed' });
      this.log.error({ reason: (e as Error).message, generation: this.current.number }, 'restart failed; the running workers carry on');
      return false;
    }
    this.newGenerationStarting = false;
    if (this.stopping) return false;
    // A mode switched while the new workers started: they take it now.
    const switched = this.withOverrides(fileConfig);
    this.current = { ...next, config: switched };
    if (switched !== config) await this.broadcast(false);
    this.log.level = config.logging.level;
    // Every older worker, including replacements forked while the new ones started.
    const old = [...this.handles].filter((h) => h.generation !== next.number);
    await Promise.all(old.map((h) => h.drain(config.limits.shutdownGraceMs)));
    this.metrics.restarts.inc({ result: 'complete' });
    this.log.info({ generation: next.number, workers: next.workers, tookMs: Date.now() - started }, 'restart complete');
    return true;
  }

  /** Forks a generation's workers; with `waitForBrokers` they take as long as the brokers do to answer. */
  private fork(generation: Generation, options: { waitForBrokers?: boolean } = {}): WorkerHandle[] {
    return Array.from({ length: generation.workers }, () => this.forkOne(generation, options));
  }

  private forkOne(generation: Generation, { waitForBrokers = false } = {}): WorkerHandle {
    const { config, workers, number } = generation;
    // Cluster discovery may try each bootstrap server for connectTimeoutMs.
    const startTimeoutMs = waitForBrokers ? undefined : Math.max(60_000, 3 * config.limits.connectTimeoutMs);
    const handle = new WorkerHandle(workers, number, startTimeoutMs, this.tlsTicketSecret, {
      // A replacement of the current generation starts with the config of the latest in-place reload.
      startWith: () => (number === this.current.number ? this.current.config : config),
      ready: (h) => this.workerReady(h),
      migrationNews: (news) => this.migration.add(news),
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

  private async applyInPlace(handle: WorkerHandle, files = true): Promise<string | undefined> {
    const { config, workers } = this.current;
    const reply = await handle.ask({ type: 'reload', id: ++this.requests, config, workers, files }, RELOAD_WAIT_MS);
    if (!reply) return `worker ${handle.id}: no answer within ${RELOAD_WAIT_MS} ms`;
    if (reply.type === 'reloaded' && reply.error !== undefined) return `worker ${handle.id}: ${reply.error}`;
    handle.config = config;
    return undefined;
  }

  /** The config file as it is now, or its problems (after saying them). */
  private readConfig(what: 'reload' | 'restart'): { config: ProxyConfig } | { problems: string[] } {
    try {
      return { config: loadConfig(this.configFile) };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      if (what === 'reload') this.metrics.reloads.inc({ result: 'refused' });
      const problems = e.problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`);
      this.log.error({ problems }, `${what} refused: the config file has problems; nothing changed`);
      return { problems };
    }
  }

  private adminSource(): AdminSource {
    return {
      contentType: this.proxyWide.contentType,
      metrics: () => this.scrape(),
      workerMetrics: (id) => this.scrapeWorker(id),
      readiness: async () => readinessOf(await this.describeWorkers(), this.stopping),
      status: () => this.status(),
      setMode: (listener, mode, caller) => this.setMode(listener, mode, caller),
      reload: async (caller) => {
        this.log.info({ by: caller.by, address: caller.address }, 'reload asked through the admin endpoint');
        const outcome = await this.reload();
        if (!outcome) return { status: 503, body: { error: 'the proxy is stopping' } };
        const failed = outcome.result === 'refused' || (outcome.result === 'in-place' && outcome.workers === undefined) || (outcome.result === 'restart' && outcome.restarted === false);
        return { status: outcome.result === 'refused' ? 422 : failed ? 500 : 200, body: outcome };
      },
    };
  }

  /** GET /status: the whole proxy, from what every accepting worker says now. */
  private async status(): Promise<unknown> {
    const entries = await this.describeWorkers();
    const readiness: Readiness = readinessOf(entries, this.stopping);
    return proxyWideStatus(entries, readiness, this.current.number, (listener) => this.overrides.get(listener));
  }

  /** Every worker, with the status the accepting ones report (a worker that does not answer in time has none). */
  private describeWorkers(): Promise<WorkerEntry[]> {
    return Promise.all(
      [...this.handles].map(async (h) => {
        const reply = h.state === 'ready' ? await h.ask({ type: 'describe', id: ++this.requests }, DESCRIBE_WAIT_MS) : undefined;
        return { id: h.id, pid: h.pid, generation: h.generation, state: h.state, status: reply?.type === 'described' ? reply.status : undefined };
      }),
    );
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


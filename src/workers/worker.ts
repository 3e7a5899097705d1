import cluster from 'node:cluster';
import type { ProxyConfig } from '../config/schema.js';
import { workerShare } from '../config/worker-share.js';
import { type Logger, createLogger } from '../observe/logger.js';
import { ProxyMetrics } from '../observe/metrics.js';
import { KafkaAuthProxy, type StartOptions } from '../proxy/proxy.js';
import { type FromWorker, type ToWorker, isToWorker } from './messages.js';

/** How often a worker tells the supervisor how many connections it holds. */
const STATUS_INTERVAL_MS = 5_000;

function send(message: FromWorker, then?: () => void): void {
  process.send!(message, undefined, {}, () => then?.());
}

/**
 * A worker process: runs the proxy on the config the supervisor sends, accepting on every
 * listener alongside its siblings, until the supervisor drains it. Signals are the supervisor's
 * to act on (a terminal's Ctrl-C or systemd's stop reaches every process of the group); a worker
 * whose supervisor is gone exits (node:cluster does that on disconnect).
 */
export function runWorker(): void {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {});
  let proxy: KafkaAuthProxy | undefined;
  let metrics: ProxyMetrics | undefined;
  let log: Logger | undefined;
  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return;
    handle(message).catch((e: Error) => {
      log?.fatal({ err: e.message }, 'worker failed');
      process.exit(1);
    });
  });
  send({ type: 'up' });

  async function handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'start': {
        log = createLogger(message.config.logging.level).child({ worker: cluster.worker!.id });
        metrics = new ProxyMetrics(true);
        const options = { tlsTicketSecret: Buffer.from(message.tlsTicketSecret, 'base64'), waitForBrokers: message.waitForBrokers, keepMigrationNews: true };
        proxy = await start(workerShare(message.config, message.workers), log, metrics, options);
        send({ type: 'ready' });
        setInterval(() => sendStatus(proxy!), STATUS_INTERVAL_MS).unref();
        return;
      }
      case 'reload': {
        const share = workerShare(message.config, message.workers);
        const error = await Promise.resolve()
          .then(() => (message.files ? proxy?.reload(share) : proxy?.apply(share)))
          .then(
          () => undefined,
          (e: Error) => e.message,
        );
        send({ type: 'reloaded', id: message.id, ...(error === undefined ? {} : { error }) });
        return;
      }
      case 'describe':
        if (proxy) send({ type: 'described', id: message.id, status: proxy.status() });
        return;
      case 'metrics':
        send({ type: 'metrics', id: message.id, metrics: metrics ? await metrics.registry.getMetricsAsJSON() : [] });
        return;
      case 'drain': {
        await proxy?.stop(message.graceMs);
        if (proxy) sendStatus(proxy);
        const report = metrics ? await metrics.registry.getMetricsAsJSON() : [];
        send({ type: 'final-metrics', metrics: report }, () => process.exit(0));
        return;
      }
    }
  }
}

function sendStatus(proxy: KafkaAuthProxy): void {
  const migration = proxy.migrationNews();
  send({ type: 'status', connections: proxy.listeners.reduce((n, l) => n + l.connectionCount, 0), ...(migration ? { migration } : {}) });
}

async function start(config: ProxyConfig, log: Logger, metrics: ProxyMetrics, options: StartOptions): Promise<KafkaAuthProxy> {
  try {
    return await KafkaAuthProxy.start(config, log, metrics, options);
  } catch (e) {
    const error = (e as Error).message;
    log.fatal({ err: error }, 'cannot start');
    await new Promise<void>((resolve) => send({ type: 'start-failed', error }, resolve));
    process.exit(1);
  }
}

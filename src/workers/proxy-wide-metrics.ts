import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsReport } from './messages.js';

/** Cumulative types: what a worker counted stays counted after it exits. (prom-client's typings say MetricType is a numeric enum; the JSON holds these names.) */
const CUMULATIVE = new Set(['counter', 'histogram']);

/**
 * One Prometheus view of the whole proxy: the supervisor's own metrics plus every worker's,
 * combined by prom-client's cluster aggregation (sums, and each metric's own aggregator where it
 * has one). Counters of workers that have exited (drained at a restart, or crashed) are kept, so
 * a restart does not look like a counter reset to Prometheus.
 */
export class ProxyWideMetrics {
  /** Each live worker's latest report: used when it does not answer in time, and folded into `retired` when it exits. */
  private readonly latest = new Map<number, MetricsReport>();
  /** The counters of every exited worker, summed. */
  private retired: MetricsReport = [];
  /** Exited workers' counters not yet summed into `retired` (a sum is under way). */
  private readonly retiring: MetricsReport[] = [];
  /** Sums run one after another, so none reads `retired` while another replaces it. */
  private summing: Promise<void> = Promise.resolve();

  constructor(private readonly supervisor: Registry) {}

  get contentType(): string {
    return this.supervisor.contentType;
  }

  /** Records a worker's report. */
  report(worker: number, metrics: MetricsReport): void {
    this.latest.set(worker, metrics);
  }

  /** Keeps the cumulative metrics of a worker that exited: its final report, else its latest. */
  retire(worker: number, final?: MetricsReport): void {
    const last = final ?? this.latest.get(worker);
    this.latest.delete(worker);
    if (!last) return;
    this.retiring.push(last.filter((m) => CUMULATIVE.has(String(m.type))));
    // Summed now, not at the next scrape: a proxy nobody scrapes must not keep every exited worker's report.
    void this.sumRetired();
  }

  /** The whole proxy's metrics, from the reports received so far. */
  async text(): Promise<string> {
    await this.sumRetired();
    const own = await this.supervisor.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([own, this.retired, ...this.latest.values()]).metrics();
  }

  private sumRetired(): Promise<void> {
    this.summing = this.summing.then(async () => {
      if (this.retiring.length === 0) return;
      const sum = AggregatorRegistry.aggregate([this.retired, ...this.retiring.splice(0)]);
      this.retired = (await sum.getMetricsAsJSON()) as MetricsReport;
    });
    return this.summing;
  }

  /** One worker's own metrics, or undefined for a worker that has not reported. */
  workerText(worker: number): Promise<string> | undefined {
    const report = this.latest.get(worker);
    return report && AggregatorRegistry.aggregate([report]).metrics();
  }
}

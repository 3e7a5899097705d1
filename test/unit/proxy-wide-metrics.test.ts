import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../src/observe/metrics.js';
import { ProxyWideMetrics } from '../../src/workers/proxy-wide-metrics.js';

/** The value of one series in Prometheus text, or undefined when it is absent. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function workerReport(accepted: number, open: number, expiry: number) {
  const metrics = new ProxyMetrics();
  metrics.connectionsAccepted.inc({ listener: 'plain' }, accepted);
  metrics.openConnections.set({ listener: 'plain', state: 'authenticated' }, open);
  metrics.tlsCertificateExpiry.set({ listener: 'plain', certificate: 'server' }, expiry);
  return metrics.registry.getMetricsAsJSON();
}

const ACCEPTED = 'kafka_proxy_connections_accepted_total{listener="plain"}';
const OPEN = 'kafka_proxy_open_connections{listener="plain",state="authenticated"}';
const EXPIRY = 'kafka_proxy_tls_certificate_expiry_timestamp_seconds{listener="plain",certificate="server"}';

describe('ProxyWideMetrics (one view of every worker)', () => {
  it('adds the workers up, and takes the earliest certificate expiry', async () => {
    const view = new ProxyWideMetrics(new Registry());
    view.report(1, await workerReport(3, 2, 2000));
    view.report(2, await workerReport(4, 1, 1000));
    const text = await view.text();
    expect(value(text, ACCEPTED)).toBe(7);
    expect(value(text, OPEN)).toBe(3);
    expect(value(text, EXPIRY)).toBe(1000);
    expect(value((await view.workerText(2))!, ACCEPTED)).toBe(4);
    expect(view.workerText(3)).toBeUndefined();
  });

  it('keeps the counters of a worker that exited, but not its gauges', async () => {
    const view = new ProxyWideMetrics(new Registry());
    view.report(1, await workerReport(3, 2, 2000));
    view.report(2, await workerReport(4, 1, 1000));
    // Drained: its final report (5 accepted) replaces the one last scraped (4).
    view.retire(2, await workerReport(5, 0, 1000));
    // Crashed: what it last reported is all there is.
    view.retire(1);
    view.report(3, await workerReport(1, 1, 3000));
    const text = await view.text();
    expect(value(text, ACCEPTED)).toBe(9);
    expect(value(text, OPEN)).toBe(1);
    expect(value(text, EXPIRY)).toBe(3000);
    // Summed once: a second scrape does not count the exited workers again.
    expect(value(await view.text(), ACCEPTED)).toBe(9);
  });

  it('includes the supervisor\'s own metrics', async () => {
    const own = new Registry();
    const metrics = new ProxyMetrics();
    own.registerMetric(metrics.connectionsAccepted);
    metrics.connectionsAccepted.inc({ listener: 'plain' }, 10);
    const view = new ProxyWideMetrics(own);
    view.report(1, await workerReport(2, 0, 0));
    expect(value(await view.text(), ACCEPTED)).toBe(12);
  });
});

import type { E2eResults } from './e2e.js';
import { ratio, sizeLabel } from './e2e-format.js';
import { RECORD_SIZES } from './e2e-options.js';
import type { ConfigurationSummary } from './e2e-summary.js';
import { barChart } from './svg-bars.js';

type Metric = 'produceRatio' | 'consumeRatio' | 'p99Ms' | 'probeP99Us' | 'produceCpuMsPerMiB' | 'consumeCpuMsPerMiB';

/** Throughput of every configuration relative to direct, produce p99 at the fixed rate (the tool's and the probe's), and forwarder CPU per MiB. */
export function e2eChart(results: E2eResults): string {
  const groups = (metric: Metric, prefix: string) =>
    RECORD_SIZES.map((size) => ({
      label: `${prefix}${sizeLabel(size)}`,
      values: results.configurations.map((name) => row(results.summary, name, size)[metric]),
    }));
  return barChart(results.configurations, [
    {
      title: 'Throughput relative to direct',
      groups: [...groups('produceRatio', 'produce '), ...groups('consumeRatio', 'consume ')],
      format: ratio,
      reference: 1,
    },
    { title: 'Produce p99 latency at half rate (ms)', groups: groups('p99Ms', ''), format: (v) => String(Math.round(v)) },
    { title: 'One request\'s p99 round trip under that load (µs)', groups: groups('probeP99Us', 'load '), format: (v) => String(Math.round(v)) },
    {
      title: 'Relay or proxy CPU ms per MiB',
      groups: [...groups('produceCpuMsPerMiB', 'produce '), ...groups('consumeCpuMsPerMiB', 'consume ')],
      format: (v) => v.toFixed(1),
    },
  ]);
}

function row(summary: ConfigurationSummary[], configuration: string, recordSize: number): ConfigurationSummary {
  const found = summary.find((r) => r.configuration === configuration && r.recordSize === recordSize);
  if (!found) throw new Error(`no summary for ${configuration} at ${recordSize} B`);
  return found;
}

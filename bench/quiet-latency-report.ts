import { median } from './e2e-summary.js';
import { FIRST_WARMUP_SECONDS, type QuietLatencyResult, type QuietLatencySample, WARMUP_SECONDS } from './quiet-latency.js';
import { PROBE_PER_SECOND } from './e2e.js';
import { markdownTable } from './report.js';

/** Per path: medians over rounds, and the p50 each forwarder adds to direct's, paired by round; then the rounds one by one. */
export function quietLatencyMarkdown(r: QuietLatencyResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${n(x)}`;
  const paths = ['direct', 'relay', 'proxy'] as const;
  const of = (path: QuietLatencySample['path']) => r.samples.filter((s) => s.path === path);
  const added = (path: QuietLatencySample['path'], pick: (s: QuietLatencySample) => number) =>
    median(of(path).map((s) => pick(s) - pick(r.samples.find((d) => d.path === 'direct' && d.round === s.round)!)));
  const summary = markdownTable(
    ['path', 'p50 µs', 'p99 µs', 'p99.9 µs', 'p50 vs direct (µs)', 'p99 vs direct (µs)'],
    paths.map((path) => [
      path,
      n(median(of(path).map((s) => s.p50Us))),
      n(median(of(path).map((s) => s.p99Us))),
      n(median(of(path).map((s) => s.p999Us))),
      signed(added(path, (s) => s.p50Us)),
      signed(added(path, (s) => s.p99Us)),
    ]),
  );
  const proxyOverRelay = median(of('proxy').map((s) => s.p50Us - of('relay').find((x) => x.round === s.round)!.p50Us));
  const rows = markdownTable(
    ['round', 'path', 'round trips', 'p50 µs', 'p99 µs', 'p99.9 µs', '1-minute load average'],
    r.samples.map((s) => [s.round, s.path, n(s.samples), n(s.p50Us), n(s.p99Us), n(s.p999Us), s.loadAverage.toFixed(2)]),
  );
  const note =
    `One Produce request at a time (acks=1, one 1 KiB record, a topic of its own per path and round) straight to one Kafka 3.9 broker, through the bare TCP relay and through the proxy ` +
    `(transparent, one worker), ${PROBE_PER_SECOND} a second for ${r.seconds} s per path after ${WARMUP_SECONDS} s unmeasured, ${r.rounds} rounds with each path first in turn, ` +
    `after ${FIRST_WARMUP_SECONDS} s unmeasured through every path before the first round; nothing else runs. ` +
    `Medians over rounds; "vs direct" is paired by round. The proxy's p50 less the relay's, paired by round: ${signed(proxyOverRelay)} µs.`;
  return `${note}\n\n${summary}\n\n${rows}`;
}

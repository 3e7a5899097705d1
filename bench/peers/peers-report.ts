import { type E2eResults } from '../e2e.js';
import { count, ratio } from '../e2e-format.js';
import { markdownTable } from '../report.js';

const cpu = (ms: number | undefined) => (ms === undefined ? '-' : ms.toFixed(2));
const signed = (n: number) => (n > 0 ? `+${count(n)}` : count(n));

/** The peers' run: one row per path, 100 B and 1 KiB side by side, and what the figures mean. */
export function peersMarkdown(results: E2eResults): string {
  const { options, summary, throughput, latency, peers, idleMemory = [], rssAfterLoadMiB = {} } = results;
  const loads = [...throughput, ...latency].map((s) => s.loadAverage);
  const of = (path: string, size: 100 | 1024) => summary.find((r) => r.configuration === path && r.recordSize === size)!;
  const pair = (path: string, f: (r: E2eResults['summary'][number]) => string) => `${f(of(path, 100))} / ${f(of(path, 1024))}`;
  const table = markdownTable(
    [
      'path',
      'produce vs direct (100 B / 1 KiB)',
      'consume vs direct',
      'produce CPU ms/MiB',
      'consume CPU ms/MiB',
      'probe p50 vs direct (µs)',
      'idle RSS (MiB)',
      'RSS after the run (MiB)',
      'memory per idle connection (KiB)',
    ],
    results.configurations.map((path) => {
      const idle = idleMemory.find((m) => m.path === path);
      return [
        path,
        pair(path, (r) => ratio(r.produceRatio)),
        pair(path, (r) => ratio(r.consumeRatio)),
        pair(path, (r) => cpu(r.produceCpuMsPerMiB)),
        pair(path, (r) => cpu(r.consumeCpuMsPerMiB)),
        pair(path, (r) => signed(r.addedProbeP50Us)),
        idle ? count(idle.idleRssMiB) : '-',
        rssAfterLoadMiB[path] === undefined ? '-' : count(rssAfterLoadMiB[path]),
        idle ? (idle.bytesPerConnection / 1024).toFixed(1) : '-',
      ];
    }),
  );
  const connections = idleMemory[0]?.connections ?? 0;
  return [
    `Paths: **direct**, **relay** (a bare Node TCP relay, the floor), **proxy** (this proxy, transparent, one worker), ` +
      peers.map((p) => `**${p.name}** ${p.version}`).join(', ') +
      ` (no filters). One Kafka 3.9 broker; Kafka's ProducerPerformance (acks=1, linger.ms=5, batch.size=16384) and ` +
      `ConsumerPerformance, each measured run after a warm-up run in the same JVM; ${count(options.records[100])} records of 100 B and ` +
      `${count(options.records[1024])} of 1 KiB per run; medians of ${options.rounds} round(s), paths alternating. "vs direct" is ` +
      `paired by round. CPU ms/MiB is the forwarder's CPU (all its processes and threads) per MiB of record payload. The probe ` +
      `sends one 1 KiB Produce at a time during the fixed-rate runs. Memory: RSS before any client, then ${count(connections)} ` +
      `idle connections that each made one ApiVersions request (so the forwarder holds a broker connection for each), ` +
      `the growth per connection.`,
    '',
    table,
    '',
    `1-minute load average during the run: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}. Run time ${Math.round(results.seconds)} s.`,
  ].join('\n');
}

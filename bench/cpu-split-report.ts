import type { CpuSplitResult, CpuSplitRound } from './cpu-split.js';
import { median } from './e2e-summary.js';
import { markdownTable } from './report.js';

/** The rounds one by one, and the medians of the later half of them (past each forwarder's JIT warm-up) with the proxy's ratio to the relay. */
export function cpuSplitMarkdown(r: CpuSplitResult): string {
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const syscallNames = Object.keys(r.samples[0]?.syscallsPerMiB ?? {});
  const rows = markdownTable(
    ['round', 'path', 'run', 'records/s', 'client run (s)', 'user CPU ms/MiB', 'system CPU ms/MiB', 'total', ...syscallNames.map((s) => `${s} per MiB`)],
    r.samples.map((s) => [
      s.round,
      s.path,
      s.phase,
      n(s.recordsPerSecond),
      s.seconds.toFixed(1),
      s.userMsPerMiB.toFixed(2),
      s.systemMsPerMiB.toFixed(2),
      (s.userMsPerMiB + s.systemMsPerMiB).toFixed(2),
      ...syscallNames.map((name) => n(s.syscallsPerMiB![name])),
    ]),
  );
  const firstSteady = Math.floor(r.rounds / 2) + 1;
  const steady = (path: CpuSplitRound['path'], phase: CpuSplitRound['phase'], pick: (s: CpuSplitRound) => number) =>
    median(r.samples.filter((s) => s.path === path && s.phase === phase && s.round >= firstSteady).map(pick));
  const figures = [
    ['user', (s: CpuSplitRound) => s.userMsPerMiB],
    ['system', (s: CpuSplitRound) => s.systemMsPerMiB],
    ['total', (s: CpuSplitRound) => s.userMsPerMiB + s.systemMsPerMiB],
  ] as const;
  const summary = markdownTable(
    [`CPU ms/MiB, median of rounds ${firstSteady} to ${r.rounds}`, 'relay', 'proxy', 'proxy / relay'],
    (['produce', 'consume'] as const).flatMap((phase) =>
      figures.map(([name, pick]) => {
        const relay = steady('relay', phase, pick);
        const proxy = steady('proxy', phase, pick);
        return [`${phase}, ${name}`, relay.toFixed(2), proxy.toFixed(2), `${(proxy / relay).toFixed(2)}x`];
      }),
    ),
  );
  const note =
    `ProducerPerformance (acks=1, linger.ms=5, batch.size=${r.batchSize}), ${r.records.toLocaleString('en')} records of ${r.recordSize} B per run after a quarter as many to warm up, ` +
    `through the bare TCP relay and the proxy (transparent, one worker) in turn, each followed by ConsumerPerformance reading them back through the same path, ${r.rounds} rounds alternating the order; one broker. ` +
    'User time is the forwarder\'s own code (JavaScript, V8\'s compiler and collector, Node\'s streams); system time the kernel working for it (socket calls, the network stack). ' +
    'The first rounds carry each forwarder\'s JIT warm-up (the proxy has more code to compile, and V8 keeps optimizing it for several rounds), so the summary takes the later half.' +
    (syscallNames.length ? ' System calls counted with strace -c attached to every process of the forwarder (which slows those rounds).' : '');
  return `${note}\n\n${summary}\n\n${rows}`;
}

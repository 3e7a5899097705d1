import { type CpuSplitResult, type CpuSplitRound, firstSteadyRound, runMiB } from './cpu-split.js';
import { median } from './e2e-summary.js';
import { CATEGORIES, type ProfileSummary, SAMPLE_HZ, addSummaries } from './perf-profile.js';
import { markdownTable } from './report.js';

/** The proxy's own functions listed per phase under the profile. */
const TOP_FUNCTIONS = 12;

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
  const firstSteady = firstSteadyRound(r.rounds);
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
  const profile = r.samples.some((s) => s.profile) ? `\n\n${profileMarkdown(r)}` : '';
  return `${note}\n\n${summary}${profile}\n\n${rows}`;
}

/**
 * perf's samples per MiB, by where they landed, for the relay and the proxy side by side: the
 * proxy's extra CPU, part by part; then the proxy's own functions that cost the most.
 */
function profileMarkdown(r: CpuSplitResult): string {
  const msPerSample = 1000 / SAMPLE_HZ;
  const profiled = r.samples.filter((s) => s.profile);
  const rounds = [...new Set(profiled.map((s) => s.round))];
  const sections = (['produce', 'consume'] as const).map((phase) => {
    const of = (path: CpuSplitRound['path']) => {
      const runs = profiled.filter((s) => s.path === path && s.phase === phase);
      const total = runs.reduce<ProfileSummary>((sum, s) => addSummaries(sum, s.profile!), { categories: {}, ownFunctions: {} });
      const perMiB = (samples: number) => (samples * msPerSample) / (runMiB(r) * runs.length);
      return { total, perMiB };
    };
    const relay = of('relay');
    const proxy = of('proxy');
    const rows = CATEGORIES.filter((c) => relay.total.categories[c] || proxy.total.categories[c]).map((c) => {
      const a = relay.perMiB(relay.total.categories[c] ?? 0);
      const b = proxy.perMiB(proxy.total.categories[c] ?? 0);
      return [c, a.toFixed(2), b.toFixed(2), signed(b - a)];
    });
    const sum = (p: typeof relay) => p.perMiB(Object.values(p.total.categories).reduce((x, y) => x + y, 0));
    rows.push(['total sampled', sum(relay).toFixed(2), sum(proxy).toFixed(2), signed(sum(proxy) - sum(relay))]);
    const categories = markdownTable([`${phase}: CPU ms/MiB by where it lands`, 'relay', 'proxy', 'proxy - relay'], rows);
    const top = Object.entries(proxy.total.ownFunctions)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_FUNCTIONS)
      .map(([name, samples]) => [`\`${name}\``, proxy.perMiB(samples).toFixed(2)]);
    const functions = markdownTable([`${phase}: the proxy's own functions that cost the most (V8 inlines callees into callers)`, 'CPU ms/MiB'], top);
    return `${categories}\n\n${functions}`;
  });
  const note =
    `Profile: \`perf record -F ${SAMPLE_HZ}\` on every process of each forwarder during its produce and consume runs of rounds ${rounds.join(', ')} ` +
    '(the rounds the summary takes; the sampling slows them a little), both forwarders started with --perf-basic-prof so that JavaScript functions are named. ' +
    `A sample is ~${msPerSample.toFixed(2)} ms of CPU; samples are counted by the code they landed in, and V8's own code (builtins, runtime, collector) is counted where it ran, not for the JavaScript that called it.`;
  return `${note}\n\n${sections.join('\n\n')}`;
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}

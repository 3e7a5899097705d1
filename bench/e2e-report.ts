import { type E2eResults, PROBE_PER_SECOND } from './e2e.js';
import { count, ratio, sizeLabel } from './e2e-format.js';
import { markdownTable } from './report.js';

const signed = (n: number) => (n > 0 ? `+${count(n)}` : count(n));
const PROBE_RATE_TEXT = `${PROBE_PER_SECOND} times a second, from the start of the measured run to shortly before its end`;
const cpu = (ms: number | undefined) => (ms === undefined ? '-' : ms.toFixed(1));

/** How much of the proxies' CPU per MiB was the supervisors' own. */
function supervisorLine(summary: E2eResults['summary']): string {
  const values = (pick: (r: E2eResults['summary'][number]) => number | undefined) => summary.map(pick).filter((v) => v !== undefined);
  const produce = values((r) => r.produceSupervisorCpuMsPerMiB);
  const consume = values((r) => r.consumeSupervisorCpuMsPerMiB);
  if (!produce.length || !consume.length) return `The proxies' supervisors were not measured apart.`;
  return (
    `Of the proxies' CPU ms/MiB, their supervisors' own (they accept the clients' connections; no request or ` +
    `response passes through them): at most ${Math.max(...produce).toFixed(2)} producing and ` +
    `${Math.max(...consume).toFixed(2)} consuming (medians per path and record size).`
  );
}

/** The e2e tables, the chart link and what the numbers do and do not say. */
export function e2eMarkdown(results: E2eResults, chartFile: string): string {
  const { options, summary, throughput, latency, authzPolicy: policy } = results;
  if (!policy) throw new Error('the e2e report describes the proxy+authz path, which this run did not have');
  const loads = [...throughput, ...latency].map((s) => s.loadAverage);
  const throughputTable = markdownTable(
    ['record size', 'path', 'produce rec/s', 'MiB/s', 'vs direct', 'CPU ms/MiB', 'consume rec/s', 'MiB/s', 'vs direct', 'CPU ms/MiB'],
    summary.map((r) => [
      sizeLabel(r.recordSize),
      r.configuration,
      count(r.produceRecordsPerSecond),
      r.produceMibPerSecond.toFixed(1),
      ratio(r.produceRatio),
      cpu(r.produceCpuMsPerMiB),
      count(r.consumeRecordsPerSecond),
      r.consumeMibPerSecond.toFixed(1),
      ratio(r.consumeRatio),
      cpu(r.consumeCpuMsPerMiB),
    ]),
  );
  const latencyTable = markdownTable(
    ['record size', 'path', 'rate rec/s', 'avg ms', 'p50 ms', 'p99 ms', 'p99.9 ms', 'p99 vs direct (ms)'],
    summary.map((r) => [
      sizeLabel(r.recordSize),
      r.configuration,
      count(r.latencyRate),
      r.avgLatencyMs.toFixed(1),
      r.p50Ms,
      r.p99Ms,
      r.p999Ms,
      signed(r.addedP99Ms),
    ]),
  );
  const probeTable = markdownTable(
    ['record size (load)', 'path', 'p50 µs', 'p99 µs', 'p99.9 µs', 'p50 vs direct (µs)', 'p99 vs direct (µs)'],
    summary.map((r) => [
      sizeLabel(r.recordSize),
      r.configuration,
      count(r.probeP50Us),
      count(r.probeP99Us),
      count(r.probeP999Us),
      signed(r.addedProbeP50Us),
      signed(r.addedProbeP99Us),
    ]),
  );
  return [
    `Paths: **direct** (client to broker), **relay** (a bare Node TCP relay in its own process, the floor for ` +
      `any proxy), **proxy** (\`node --initial-old-space-size=64 dist/cli.js\` with \`workers: ${options.workers}\`: a ` +
      `supervisor that accepts each connection and hands it to a worker, which forwards it from then on; authentication ` +
      `none), **proxy+tls** (the same ` +
      `with a TLS listener: the clients speak Kafka's SSL to the proxy, RSA 2048 certificate made by the bench, the proxy ` +
      `plaintext to the broker), **proxy+authz** (the proxy ` +
      `with an OAUTHBEARER listener in enforce mode: the clients log in with Kafka's OIDC client-credentials ` +
      `handler at the development token issuer, and every request is decoded and authorized against a policy of ` +
      `${count(policy.grants)} grants in ${policy.roles} roles: the bench principal holds ${count(policy.principalGrants)} ` +
      `of them in ${policy.principalRoles.length} roles, but only the prefix grants on its own topics and consumer ` +
      `groups ("e2e-*") ever match; the rest name other teams' topics). One Kafka 3.9 broker (KRaft), new ` +
      `1-partition topics for every measurement; load from Kafka's ProducerPerformance (acks=1, linger.ms=5, ` +
      `batch.size=16384) and ConsumerPerformance, each measured run preceded, in the same JVM, by a warm-up run a ` +
      `quarter its size, so client start-up is not counted. Medians of ${options.rounds} round(s), paths ` +
      `alternating within each round; "vs direct" compares each round with direct's figure from the same round ` +
      `and reports the median of those per-round ratios (or differences, for latency). Everything ` +
      `shares this machine's cores, so the CPU the relay or a proxy uses is taken from the broker and the clients: ` +
      `the ratios include that, and they move with whatever else the machine runs. "CPU ms/MiB" is the CPU time ` +
      `(user + system) the relay's process, or a proxy's supervisor and all its workers together, used per MiB of ` +
      `record payload, warm-up included: a cost that moves much less with the machine's load.`,
    '',
    `![throughput relative to direct, p99 latency and forwarder CPU](${chartFile})`,
    '',
    `### Throughput at full speed`,
    '',
    `${count(options.records[100])} records of 100 B, ${count(options.records[1024])} of 1 KiB per run. Consume ` +
      `figures are ConsumerPerformance's fetch rates, without the consumer group join.`,
    '',
    throughputTable,
    '',
    options.rounds < 2
      ? `One round: no round-to-round spread to judge the noise by.`
      : `Round-to-round spread (fastest round / slowest round of one path): up to ` +
        `${ratio(Math.max(...summary.map((r) => r.produceSpread)))} for produce and ` +
        `${ratio(Math.max(...summary.map((r) => r.consumeSpread)))} for consume; differences between paths ` +
        `smaller than that are within this run's noise.`,
    '',
    supervisorLine(summary),
    '',
    `### Produce latency at a fixed rate`,
    '',
    `Half of direct's median full-speed rate, ${options.latencySeconds} s per run. ProducerPerformance counts ` +
      `from each send() call and reports whole milliseconds.`,
    '',
    latencyTable,
    '',
    `### One request's round trip, in microseconds, under that load`,
    '',
    `During each of those runs a probe in the bench's process sends one Produce request at a time (acks=1, one ` +
      `1 KiB record, its own topic and connection, over TLS on proxy+tls, authenticated on proxy+authz) ${PROBE_RATE_TEXT}, and times each ` +
      `round trip with the monotonic clock: the latency a path adds, at a resolution ProducerPerformance's whole ` +
      `milliseconds cannot show. Medians over rounds; "vs direct" is paired by round.`,
    '',
    probeTable,
    '',
    `1-minute load average during the run: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}. ` +
      `Proxy warnings, errors and denials logged: ${results.proxyProblems.length}. Run time ${Math.round(results.seconds)} s.`,
  ].join('\n');
}

/**
 * Benchmarks: `npm run bench -- <name> [options]`. Each prints progress while it runs and writes
 * JSON and a markdown table to bench/results/.
 *   codec   header + entity scan and header + full decode of Produce and Fetch requests, per
 *           core, with the bytes each allocates per request
 *   e2e     what the proxy costs against going straight to the broker: produce and consume
 *           throughput and produce latency through direct, a bare TCP relay, the proxy, the proxy
 *           with a TLS listener (client TLS, plaintext to the broker) and the proxy
 *           authenticating (OAUTHBEARER) and enforcing a 10,000-grant policy, on a real Kafka
 *           broker with Kafka's perf tools (~10 minutes; also writes e2e.svg)
 *           [--quick] [--rounds N] [--records N] [--workers N, default 1] [--record: also the
 *           proxy and proxy+authz paths with the access recorder on, to e2e-record.*]
 *   sasl    full SASL handshakes per second and per CPU second: OAUTHBEARER (RS256, ES256,
 *           warm JWKS) and AWS_MSK_IAM, through the proxy's SASL server in process
 *   idle    the connection storm: new authenticated connections per second (OAUTHBEARER, then
 *           AWS_MSK_IAM) and proxy memory per idle authenticated connection, with the proxy as a
 *           child process in front of one broker; then the same over TLS (SASL_SSL): memory per
 *           idle TLS connection, full and resumed TLS 1.3 and 1.2 handshakes per second and per
 *           proxy CPU second [--connections N, default 10,000] [--workers N, default 1]

 *   roles   the connection storm (OAUTHBEARER, then one Metadata request) through two proxies
 *           with the same policy, with and without a rolesSource whose cache is warm (~3 minutes)
 *           [--connections N, default 5,000] [--rounds N, default 3]
 *   recorder the access recorder's memory at its default caps (10,000 identities x 100 topics),
 *           the time of a snapshot and of writing and reading its file, and the longest
 *           event-loop stall while a worker writes it in slices
 *   metadata one Metadata v12 answer of a large cluster (1,000 topics x 10 partitions, 50,000
 *           partitions, 200,000) through the transparent and the enforcing rewrite, in process:
 *           the time a worker's event loop is held [--runs N, default 15]
 *   fetch-sessions a consumer group of one Java consumer on a topic of 1,000 partitions, idle once it
 *           has read one record from each: fetch requests and the consumer's bytes per second and
 *           the forwarder's CPU, through direct, the transparent proxy and the enforcing proxy
 *           (fetch sessions, KIP-227) [--partitions N, default 1,000] [--idle S, default 30]
 *           [--rounds N, default 3]
 *   ab      this checkout's proxy against another build of it (a copy of dist/ made before a
 *           change), side by side: produce and consume CPU per MiB of each, rounds alternating
 *           --against PATH/cli.js [--size BYTES, default 1024] [--records N, default 300,000]
 *           [--rounds N, default 4]
 *   cpu-split where the forwarder's CPU goes: ProducerPerformance, then ConsumerPerformance
 *           reading the records back, through the bare relay and the proxy in turn, each run's
 *           CPU split into user and system time per MiB, round by round (the proxy's JIT
 *           warm-up shows), with --syscalls also the system calls per MiB
 *           (strace; to cpu-split-syscalls.*), with --profile where the later rounds' CPU lands
 *           (perf record; to cpu-split-profile.*) [--size BYTES, default 100] [--records N,
 *           default 500,000] [--rounds N, default 4] [--batch-size BYTES, default 16384]
 *           [--syscalls] [--profile]
 *   quiet-latency the e2e latency probe with nothing else running: one Produce request at a time
 *           (1 KiB, acks=1) direct, through the relay and through the proxy, p50/p99 in µs
 *           [--seconds S, default 20] [--rounds N, default 3]
 *   authz   policy decisions per core: allows() on a 10,000-grant policy for exact, prefix and
 *           missing topic names, with and without the per-session decision cache
 *   hotpath Produce and Fetch requests per core through the proxy's request path (frame split,
 *           header, RequestAuthorizer.decide on a 10,000-grant policy in enforce mode, hand-off),
 *           against the same path without authorization and with the access recorder on, with the
 *           bytes each allocates per request
 *
 *   peers   the e2e harness with the peers beside direct, the relay and the proxy: Kroxylicious
 *           (kroxylicious-runtime from Maven Central, no filters, started by bench/peers/
 *           KroxyliciousLauncher.java) and grepplabs/kafka-proxy from a binary you give; throughput
 *           vs direct, CPU per MiB, the latency probe, idle RSS and memory per idle connection
 *           [--quick] [--rounds N] [--records N] [--idle-connections N, default 2,000] [--grepplabs PATH]
 *
 * e2e and idle run the proxy as users do (`node dist/cli.js`: a supervisor and `workers`
 * workers); every CPU, memory and open-file figure of "the proxy" sums the supervisor and all
 * its workers (bench/process-tree.ts). With --workers N other than 1 their results go to
 * <name>-workers-N.*, so the 1-worker files stay. `npm run bench -- --help` prints this.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAbBench } from './ab.js';
import { runAuthzBench } from './authz.js';
import { runCodecBench } from './codec.js';
import { runCpuSplitBench } from './cpu-split.js';
import { runE2eBench } from './e2e.js';
import { runFetchSessionsBench } from './fetch-sessions.js';
import { e2eChart } from './e2e-chart.js';
import { parseE2eOptions, parsePeersOptions } from './e2e-options.js';
import { peersMarkdown } from './peers/peers-report.js';
import { e2eMarkdown } from './e2e-report.js';
import { runHotpathBench } from './hotpath.js';
import { runIdleConnectionsBench } from './idle-connections.js';
import { markdownTable, RESULTS_DIR, writeResults } from './report.js';
import { cpuSplitMarkdown } from './cpu-split-report.js';
import { runQuietLatencyBench } from './quiet-latency.js';
import { quietLatencyMarkdown } from './quiet-latency-report.js';
import { DEFAULT_BATCH_SIZE } from './kafka-perf.js';
import { runMetadataRewriteBench } from './metadata-rewrite.js';
import { runRecorderMemoryBench } from './recorder-memory.js';
import { runRolesStormBench } from './roles-storm.js';
import { runHandshakeBench } from './sasl-handshakes.js';

const log = (line: string) => console.log(line);

/** bench/results/<bench>.* with the default single worker (comparable with the figures from before workers), <bench>-workers-N.* otherwise. */
const resultsName = (bench: string, workers: number) => (workers === 1 ? bench : `${bench}-workers-${workers}`);

/**
 * A bench's `--name VALUE` options (`names`, nothing else): `text` gives one as given, `positive`
 * one that must be a positive integer; anything else fails with `usage`.
 */
function benchOptions(args: string[], names: readonly string[], usage: string) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])) }));
  } catch {
    throw new Error(usage);
  }
  const text = (name: string) => values[name] as string | undefined;
  return {
    text,
    positive(name: string): number | undefined {
      const given = text(name);
      if (given === undefined) return undefined;
      const n = Number(given);
      if (!Number.isInteger(n) || n < 1) throw new Error(usage);
      return n;
    },
  };
}

const BENCHES: Record<string, (args: string[]) => Promise<string>> = {
  async codec(args) {
    if (args.length) throw new Error(`codec takes no options, got ${args.join(' ')}`);
    const results = await runCodecBench(log);
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['request', 'frame bytes', 'header + entity scan /s', 'scan bytes allocated', 'header + full decode /s', 'decode bytes allocated'],
      results.map((r) => [r.name, n(r.frameBytes), n(r.scansPerSecond), n(r.scanBytesAllocated), n(r.decodesPerSecond), n(r.decodeBytesAllocated)]),
    );
    return writeResults('codec', 'npm run bench -- codec', results, table);
  },
  async sasl(args) {
    if (args.length) throw new Error(`sasl takes no options, got ${args.join(' ')}`);
    const results = await runHandshakeBench(log);
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['mechanism', 'handshakes /s (wall, 32 in flight)', 'handshakes per CPU second', 'distinct credentials'],
      results.map((r) => [r.mechanism, n(r.handshakesPerSecond), n(r.handshakesPerCpuSecond), r.credentials]),
    );
    return writeResults('sasl', 'npm run bench -- sasl', results, table);
  },
  async idle(args) {
    const options = benchOptions(args, ['connections', 'workers'], `idle takes only --connections N and --workers N, got ${args.join(' ')}`);
    const r = await runIdleConnectionsBench(log, { connections: options.positive('connections'), workers: options.positive('workers') });
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['idle authenticated connections', 'proxy RSS before (MiB)', 'after (MiB)', 'bytes per connection', 'new connections /s, OAUTHBEARER', 'new connections /s, AWS_MSK_IAM'],
      [[n(r.connections), r.proxyRssBeforeMiB, r.proxyRssAfterMiB, n(r.bytesPerConnection), n(r.connectionsPerSecond), n(r.awsConnectionsPerSecond)]],
    );
    const t = r.tls;
    const memory = markdownTable(
      ['idle OAUTHBEARER connections', 'listener', 'proxy RSS before (MiB)', 'after (MiB)', 'bytes per connection'],
      [
        [n(r.connections), 'SASL_PLAINTEXT', r.proxyRssBeforeMiB, r.proxyRssAfterMiB, n(r.bytesPerConnection)],
        [n(t.connections), 'SASL_SSL (TLS 1.3 full handshakes)', t.proxyRssBeforeMiB, t.proxyRssAfterMiB, n(t.bytesPerConnection)],
      ],
    );
    const storms = markdownTable(
      ['storm (OAUTHBEARER, 100 in flight)', 'new connections /s', 'per proxy CPU second', 'proxy CPU µs per connection', 'of which supervisor', 'bench clients CPU µs per connection', 'resumed', 'negotiated'],
      t.storms.map((s) => [s.name, n(s.perSecond), n(s.perProxyCpuSecond), n(s.proxyCpuMicrosPerConnection), n(s.supervisorCpuMicrosPerConnection), n(s.clientCpuMicrosPerConnection), s.protocol ? `${n(s.resumed)} of ${n(t.connections)}` : '-', s.protocol ?? 'plaintext']),
    );
    const processes =
      `Proxy: \`workers: ${r.workers}\`; every proxy figure (RSS, CPU) is the sum over its ${r.proxyProcesses} processes, the ` +
      `supervisor (which accepts every connection and hands it to a worker) and its workers.`;
    return writeResults(resultsName('idle', r.workers), ['npm run bench -- idle', ...args].join(' '), r, `${processes}\n\n${table}\n\n${memory}\n\n${storms}`);
  },
  async roles(args) {
    const options = benchOptions(args, ['connections', 'rounds'], `roles takes only --connections N and --rounds N, got ${args.join(' ')}`);
    const r = await runRolesStormBench(log, { connections: options.positive('connections'), rounds: options.positive('rounds') });
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      [`storm of ${n(r.connections)} (OAUTHBEARER + one Metadata, ${r.principals} principals, 100 in flight)`, 'new connections /s', 'per proxy CPU second', 'proxy CPU µs per connection'],
      [r.off, r.on].map((s) => [s.name, n(s.perSecond), n(s.perProxyCpuSecond), n(s.proxyCpuMicrosPerConnection)]),
    );
    const note = `Medians of ${r.rounds} alternating rounds; one worker each. The permissions service got ${n(r.serviceRequests)} requests during the measured storms (warm cache, TTL 1 h).`;
    return writeResults('roles', ['npm run bench -- roles', ...args].join(' '), r, `${note}\n\n${table}`);
  },
  async metadata(args) {
    const runs = args.length === 0 ? 15 : args[0] === '--runs' && args.length === 2 && Number(args[1]) >= 1 ? Number(args[1]) : Number.NaN;
    if (Number.isNaN(runs)) throw new Error(`metadata takes [--runs N], got ${args.join(' ')}`);
    const results = await runMetadataRewriteBench([[1_000, 10], [5_000, 10], [1_000, 50], [20_000, 10]], runs, log);
    const n = (x: number) => x.toLocaleString('en');
    const ms = (x: number) => x.toFixed(1);
    const table = markdownTable(
      ['topics x partitions', 'partitions', 'response (KiB)', 'transparent: rewrite (ms)', 'enforcing: authorize + filter half + rewrite (ms)'],
      results.map((r) => [`${n(r.topics)} x ${r.partitionsPerTopic}`, n(r.topics * r.partitionsPerTopic), n(Math.round(r.responseBytes / 1024)), ms(r.transparentMs), ms(r.enforcingMs)]),
    );
    const note = `One Metadata v12 answer (6 brokers, 3 replicas per partition, every topic asked for) through the proxy's response path in process, median of ${runs} runs: the time one worker's event loop is held, during which its other connections wait.`;
    return writeResults('metadata', `npm run bench -- metadata${args.length ? ` ${args.join(' ')}` : ''}`, results, `${note}\n\n${table}`);
  },
  async 'fetch-sessions'(args) {
    const options = benchOptions(args, ['partitions', 'idle', 'rounds'], 'fetch-sessions takes [--partitions N] [--idle SECONDS] [--rounds N]');
    const r = await runFetchSessionsBench(options.positive('partitions') ?? 1_000, options.positive('idle') ?? 30, options.positive('rounds') ?? 3, log);
    const n = (x: number) => Math.round(x).toLocaleString('en');
    const table = markdownTable(
      ['path', 'fetch requests /s', 'consumer bytes sent /s', 'consumer bytes received /s', 'forwarder CPU (ms per s)'],
      r.paths.map((p) => [p.path, p.fetchesPerSecond.toFixed(2), n(p.bytesSentPerSecond), n(p.bytesReceivedPerSecond), p.forwarderCpuMsPerSecond === undefined ? '-' : p.forwarderCpuMsPerSecond.toFixed(2)]),
    );
    const note =
      `One Java consumer (kafka-clients, its defaults: fetch.max.wait.ms 500, fetch sessions on) in its own group on a topic of ${n(r.partitions)} partitions ` +
      `with one record each, measured over ${r.idleSeconds} s idle after it has read them; medians of ${r.rounds} alternating rounds; one broker, one worker per proxy; ` +
      'proxy+authz authenticates with OAUTHBEARER and enforces the 10,000-grant policy.';
    return writeResults('fetch-sessions', ['npm run bench -- fetch-sessions', ...args].join(' '), r, `${note}\n\n${table}`);
  },
  async ab(args) {
    const usage = 'ab takes --against PATH/cli.js [--size BYTES] [--records N] [--rounds N]';
    const options = benchOptions(args, ['against', 'size', 'records', 'rounds'], usage);
    const against = options.text('against');
    if (against === undefined) throw new Error(usage);
    const r = await runAbBench(against, options.positive('size') ?? 1024, options.positive('records') ?? 300_000, options.positive('rounds') ?? 4, log);
    const rounds = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    const table = markdownTable(
      ['build', 'produce CPU ms/MiB, median', 'each round', 'consume CPU ms/MiB, median', 'each round'],
      [
        ['this checkout (dist/)', r.thisMedian.toFixed(2), rounds(r.thisBuild), r.thisConsumeMedian.toFixed(2), rounds(r.thisConsume)],
        [r.against, r.otherMedian.toFixed(2), rounds(r.otherBuild), r.otherConsumeMedian.toFixed(2), rounds(r.otherConsume)],
      ],
    );
    const note =
      `ProducerPerformance, ${r.records.toLocaleString('en')} records of ${r.recordSize} B per run after a quarter as many to warm up, then ConsumerPerformance reading them back, ` +
      `through each build in turn (transparent listener, one worker), ${r.rounds} rounds alternating the order; one broker.`;
    return writeResults('ab', ['npm run bench -- ab', ...args].join(' '), r, `${note}\n\n${table}`);
  },
  async 'cpu-split'(args) {
    const usage = 'cpu-split takes [--size BYTES] [--records N] [--rounds N] [--batch-size BYTES] [--syscalls] [--profile]';
    const syscalls = args.includes('--syscalls');
    const profile = args.includes('--profile');
    const options = benchOptions(
      args.filter((a) => a !== '--syscalls' && a !== '--profile'),
      ['size', 'records', 'rounds', 'batch-size'],
      usage,
    );
    const r = await runCpuSplitBench(
      {
        recordSize: options.positive('size') ?? 100,
        records: options.positive('records') ?? 500_000,
        rounds: options.positive('rounds') ?? 4,
        batchSize: options.positive('batch-size') ?? DEFAULT_BATCH_SIZE,
        syscalls,
        profile,
      },
      log,
    );
    // The traced or sampled rounds' CPU figures are inflated by it: they get a file of their own.
    return writeResults(syscalls ? 'cpu-split-syscalls' : profile ? 'cpu-split-profile' : 'cpu-split', ['npm run bench -- cpu-split', ...args].join(' '), r, cpuSplitMarkdown(r));
  },
  async 'quiet-latency'(args) {
    const options = benchOptions(args, ['seconds', 'rounds'], 'quiet-latency takes [--seconds S] [--rounds N]');
    const r = await runQuietLatencyBench({ seconds: options.positive('seconds') ?? 20, rounds: options.positive('rounds') ?? 3 }, log);
    return writeResults('quiet-latency', ['npm run bench -- quiet-latency', ...args].join(' '), r, quietLatencyMarkdown(r));
  },
  async recorder(args) {
    if (args.length) throw new Error(`recorder takes no options, got ${args.join(' ')}`);
    const r = await runRecorderMemoryBench(log);
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['identities x topics', 'entries', 'heap (MiB)', 'RSS growth (MiB)', 'heap bytes per entry', 'file (MiB)', 'one piece: snapshot + write (ms)', 'in slices, as a worker writes (ms)', 'longest event-loop stall (ms)', 'read + parse (ms)'],
      [[`${n(r.identities)} x ${r.topicsPerIdentity}`, n(r.entries), r.heapMiB, r.rssMiB, n(r.bytesPerEntry), r.fileMiB, `${n(r.snapshotMs)} + ${n(r.writeMs)}`, n(r.slicedWriteMs), r.longestStallMs, n(r.readMs)]],
    );
    const note = 'One process: the access recorder at its default caps (accessRecording.maxIdentities 10,000, maxEntriesPerIdentity 100), plaintext clients with ~45-character topic names; heap after two full collections.';
    return writeResults('recorder', 'npm run bench -- recorder', r, `${note}\n\n${table}`);
  },
  async authz(args) {
    if (args.length) throw new Error(`authz takes no options, got ${args.join(' ')}`);
    const r = await runAuthzBench(log);
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['topic read decision', 'allows /s', 'bytes allocated', 'DecisionCache.allows /s', 'bytes allocated'],
      r.rows.map((x) => [x.name, n(x.uncachedPerSecond), n(x.uncachedBytesAllocated), n(x.cachedPerSecond), n(x.cachedBytesAllocated)]),
    );
    const setup = `${n(r.grants)} topic grants in ${r.roles} roles; the principal has ${r.principalRoles} roles (${r.principalPrefixes} prefixes). compilePolicy ${r.compileMs} ms, grantsFor (first connection of a principal) ${r.grantsForMs} ms, a DecisionCache after its first decision ${n(r.cacheBytes)} bytes.`;
    return writeResults('authz', 'npm run bench -- authz', r, `${setup}\n\n${table}`);
  },
  async hotpath(args) {
    if (args.length) throw new Error(`hotpath takes no options, got ${args.join(' ')}`);
    const r = await runHotpathBench(log);
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['request', 'frame bytes', 'split + header /s', 'bytes allocated', 'split + header + authorize /s', 'bytes allocated', 'authorization µs per request', '+ access recorder /s', 'bytes allocated', 'recording µs per request'],
      r.cases.map((c) => [
        c.name,
        n(c.frameBytes),
        n(c.baselinePerSecond),
        n(c.baselineBytesAllocated),
        n(c.authorizedPerSecond),
        n(c.authorizedBytesAllocated),
        c.authorizationMicros.toFixed(2),
        n(c.recordedPerSecond),
        n(c.recordedBytesAllocated),
        c.recordingMicros.toFixed(2),
      ]),
    );
    const setup =
      `One enforce-mode session on one core: ${n(r.grants)} topic grants in ${r.roles} roles, the principal holding ${n(r.principalGrants)} of them ` +
      `in ${r.principalRoles} roles; every topic allowed, so every request is forwarded unchanged (to a no-op sink). "split + header" is a ` +
      `listener without a policy: FrameSplitter, the header fields, the offered-version check and a Produce's acks; both record the ` +
      `per-request metrics a session records (request count, added latency, bytes; decisions with a policy). "+ access recorder" is the ` +
      `authorized path of a session that also records what it uses (accessRecording; a recorder already holding the session's identity).`;
    return writeResults('hotpath', 'npm run bench -- hotpath', r, `${setup}\n\n${table}`);
  },
  async e2e(args) {
    const options = parseE2eOptions(args);
    const name = options.record ? `${resultsName('e2e', options.workers)}-record` : resultsName('e2e', options.workers);
    const results = await runE2eBench(options, log);
    const markdown = writeResults(name, ['npm run bench -- e2e', ...args].join(' '), results, e2eMarkdown(results, `${name}.svg`));
    writeFileSync(join(RESULTS_DIR, `${name}.svg`), e2eChart(results));
    return markdown;
  },
  async peers(args) {
    const results = await runE2eBench(parsePeersOptions(args), log);
    // A quick run is a smoke test: it keeps the full run's files.
    const name = args.includes('--quick') ? 'peers-quick' : 'peers';
    return writeResults(name, ['npm run bench -- peers', ...args].join(' '), results, peersMarkdown(results));
  },
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    console.log(source.slice(source.indexOf('/**') + 4, source.indexOf('*/')).replace(/^ \* ?/gm, '').trimEnd());
    return;
  }
  // Benchmark names come first; everything from the first option on goes to each benchmark.
  const firstOption = argv.findIndex((a) => a.startsWith('-'));
  const names = firstOption < 0 ? argv : argv.slice(0, firstOption);
  const args = firstOption < 0 ? [] : argv.slice(firstOption);
  const selected = names.length ? names : Object.keys(BENCHES);
  for (const name of selected) {
    const bench = BENCHES[name];
    if (!bench) {
      console.error(`unknown benchmark ${JSON.stringify(name)}; choose from: ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
    console.log(await bench(args));
  }
}

await main();

import { join } from 'node:path';
import { LOOPBACK } from '../scripts/kafka/ports.js';
import { startAttachedTool } from './attached-tool.js';
import { KafkaPerfTools } from './kafka-perf.js';
import { PERF_NODE_FLAG, type ProfileSummary, removeJitMaps, startPerf } from './perf-profile.js';
import { processTree, treeCpuMs } from './process-tree.js';
import { withRelayAndProxy } from './relay-proxy-env.js';

export interface CpuSplitOptions {
  recordSize: number;
  records: number;
  rounds: number;
  batchSize: number;
  /** Also count each forwarder's system calls per MiB with `strace -c` (slows the round it watches). */
  syscalls: boolean;
  /** Also sample each forwarder with `perf record` in the rounds the summary takes (past the warm-up). */
  profile: boolean;
}

/** One produce run, or the consume run that reads its records back, through one forwarder. */
export interface CpuSplitRound {
  round: number;
  path: 'relay' | 'proxy';
  phase: 'produce' | 'consume';
  recordsPerSecond: number;
  /** How long the client's JVM ran (warm-up run, start-up and, consuming, the group join included). */
  seconds: number;
  userMsPerMiB: number;
  systemMsPerMiB: number;
  /** read, write, writev, epoll_pwait calls per MiB, with --syscalls. */
  syscallsPerMiB?: Record<string, number>;
  /** Where perf's samples of the forwarder landed during the run, with --profile in the later rounds. */
  profile?: ProfileSummary;
}

export interface CpuSplitResult extends CpuSplitOptions {
  samples: CpuSplitRound[];
}

/** The first round past the warm-up: the summary takes this one and those after it. */
export function firstSteadyRound(rounds: number): number {
  return Math.floor(rounds / 2) + 1;
}

/** MiB of record payload one run moves, its warm-up included (the forwarder's CPU is measured over both). */
export function runMiB({ records, recordSize }: Pick<CpuSplitOptions, 'records' | 'recordSize'>): number {
  return ((records + warmupRecords(records)) * recordSize) / 2 ** 20;
}

function warmupRecords(records: number): number {
  return Math.ceil(records / 4);
}

const COUNTED_SYSCALLS = ['read', 'write', 'writev', 'epoll_pwait'];

/**
 * Where the forwarder's CPU goes: ProducerPerformance through the bare TCP relay and through the
 * proxy (transparent, one worker) in turn, then ConsumerPerformance reading the records back
 * through the same path, each run's CPU split into user time (the process's
 * own code: JavaScript, V8's compiler and collector, Node's stream machinery) and system time (the
 * kernel: the socket syscalls and the network stack), per MiB produced. Round by round, so the
 * proxy's JIT warm-up shows as what it is; with --syscalls also each forwarder's system calls per
 * MiB (strace -c attached to every process of the forwarder), with --profile where the CPU of
 * the later rounds lands (perf record, see perf-profile.ts). Each run's wall time is kept:
 * a forwarder's CPU while its client starts up and joins its group counts against the MiB too.
 */
export async function runCpuSplitBench(options: CpuSplitOptions, log: (line: string) => void): Promise<CpuSplitResult> {
  /** Processes that wrote JIT symbol files for perf, removed once they have stopped. */
  const profiled = new Set<number>();
  const nodeArgs = options.profile ? [PERF_NODE_FLAG] : [];
  try {
    return await withRelayAndProxy('cpu-split', log, nodeArgs, async ({ workDir, relay, proxy, topics }) => {
      const tools = await KafkaPerfTools.create(workDir, log);
      const paths = [
        { path: 'relay' as const, bootstrap: `${LOOPBACK}:${relay.port}`, pid: relay.pid },
        { path: 'proxy' as const, bootstrap: proxy.bootstrap, pid: proxy.pid },
      ];
      const warmup = warmupRecords(options.records);
      const mib = runMiB(options);
      const samples: CpuSplitRound[] = [];
      for (let round = 1; round <= options.rounds; round++) {
        for (const { path, bootstrap, pid } of round % 2 === 1 ? paths : [...paths].reverse()) {
          const topic = `cpu-split-${path}-${round}`;
          await topics.create(topic, `${topic}-warmup`);
          const target = { bootstrap, clientProperties: {}, topic, warmupTopic: `${topic}-warmup` };
          const runs = {
            produce: () => tools.produce(target, options.records, options.recordSize, -1, warmup, options.batchSize),
            consume: () => tools.consume(target, options.records, warmup),
          };
          for (const phase of ['produce', 'consume'] as const) {
            const pids = processTree(pid);
            if (options.profile) for (const p of pids) profiled.add(p);
            const tracer = options.syscalls ? await startStrace(pids) : undefined;
            const profiler = options.profile && round >= firstSteadyRound(options.rounds) ? await startPerf(pids, join(workDir, `perf-${path}.data`)) : undefined;
            const before = treeCpuMs(pid)!;
            const startedAt = performance.now();
            const { recordsPerSecond } = await runs[phase]();
            const seconds = (performance.now() - startedAt) / 1000;
            const after = treeCpuMs(pid)!;
            const calls = tracer && (await tracer.stop());
            const profile = await profiler?.stop();
            const sample: CpuSplitRound = {
              round,
              path,
              phase,
              recordsPerSecond,
              seconds,
              userMsPerMiB: (after.userMs - before.userMs) / mib,
              systemMsPerMiB: (after.systemMs - before.systemMs) / mib,
              syscallsPerMiB: calls && Object.fromEntries(COUNTED_SYSCALLS.map((name) => [name, Math.round((calls[name] ?? 0) / mib)])),
              profile,
            };
            samples.push(sample);
            log(`cpu-split: round ${round}/${options.rounds}, ${path}, ${phase}: user ${sample.userMsPerMiB.toFixed(2)} + system ${sample.systemMsPerMiB.toFixed(2)} CPU ms/MiB`);
          }
        }
      }
      return { ...options, samples };
    });
  } finally {
    await removeJitMaps([...profiled]);
  }
}

/** `strace -c -f` attached to `pids`; stop() detaches it and gives the calls it counted, by syscall. */
async function startStrace(pids: number[]): Promise<{ stop(): Promise<Record<string, number>> }> {
  const strace = await startAttachedTool('strace', ['-c', '-f', ...pids.flatMap((pid) => ['-p', String(pid)])], '--syscalls');
  return { stop: async () => parseStraceSummary(await strace.stop()) };
}

/** The calls column of `strace -c`'s table, by syscall name. */
export function parseStraceSummary(summary: string): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const line of summary.split('\n')) {
    // % time, seconds, usecs/call, calls, [errors,] syscall
    const fields = line.trim().split(/\s+/);
    const name = fields[fields.length - 1];
    if (fields.length < 5 || !/^[0-9.]+$/.test(fields[0]) || name === 'total') continue;
    calls[name] = Number(fields[3]);
  }
  return calls;
}

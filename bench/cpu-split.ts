import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { onParentExit } from '../scripts/kafka/exit-hooks.js';
import { LOOPBACK, pickFreePorts } from '../scripts/kafka/ports.js';
import { ensureBuilt } from './build-dist.js';
import { KafkaPerfTools } from './kafka-perf.js';
import { processTree, treeCpuMs } from './process-tree.js';
import { startProxyProcess } from './proxy-process.js';
import { startRelayProcess } from './relay-process.js';
import { TopicMaker } from './topics.js';

export interface CpuSplitOptions {
  recordSize: number;
  records: number;
  rounds: number;
  batchSize: number;
  /** Also count each forwarder's system calls per MiB with `strace -c` (slows the round it watches). */
  syscalls: boolean;
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
}

export interface CpuSplitResult extends CpuSplitOptions {
  samples: CpuSplitRound[];
}

const COUNTED_SYSCALLS = ['read', 'write', 'writev', 'epoll_pwait'];
const STRACE_ATTACH_MS = 500;

/**
 * Where the forwarder's CPU goes: ProducerPerformance through the bare TCP relay and through the
 * proxy (transparent, one worker) in turn, then ConsumerPerformance reading the records back
 * through the same path, each run's CPU split into user time (the process's
 * own code: JavaScript, V8's compiler and collector, Node's stream machinery) and system time (the
 * kernel: the socket syscalls and the network stack), per MiB produced. Round by round, so the
 * proxy's JIT warm-up shows as what it is; with --syscalls also each forwarder's system calls per
 * MiB (strace -c attached to every process of the forwarder). Each run's wall time is kept:
 * a forwarder's CPU while its client starts up and joins its group counts against the MiB too.
 */
export async function runCpuSplitBench(options: CpuSplitOptions, log: (line: string) => void): Promise<CpuSplitResult> {
  const workDir = await mkdtemp(join(tmpdir(), 'kafka-proxy-cpu-split-'));
  const unregister = onParentExit(() => rmSync(workDir, { recursive: true, force: true }));
  const stops: (() => Promise<void>)[] = [];
  try {
    await ensureBuilt(log);
    const [relayListenerPort] = await pickFreePorts(1);
    const relay = await startRelayProcess(LOOPBACK, relayListenerPort);
    stops.push(() => relay.stop());
    const cluster = await startKafkaCluster({ brokers: 1, log, extraListeners: () => [{ name: 'RELAY', port: relayListenerPort, advertisedPort: relay.port }] });
    stops.push(() => cluster.stop());
    const broker = cluster.bootstrapServers[0];
    const proxy = await startProxyProcess(broker, workDir, { name: 'cpu-split' });
    stops.push(() => proxy.stop());
    const tools = await KafkaPerfTools.create(workDir, log);
    const topics = await TopicMaker.connect(broker);
    stops.push(() => topics.close());
    const paths = [
      { path: 'relay' as const, bootstrap: `${LOOPBACK}:${relay.port}`, pid: relay.pid },
      { path: 'proxy' as const, bootstrap: proxy.bootstrap, pid: proxy.pid },
    ];
    const warmup = Math.ceil(options.records / 4);
    const mib = ((options.records + warmup) * options.recordSize) / 2 ** 20;
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
          const tracer = options.syscalls ? await startStrace(processTree(pid)) : undefined;
          const before = treeCpuMs(pid)!;
          const startedAt = performance.now();
          const { recordsPerSecond } = await runs[phase]();
          const seconds = (performance.now() - startedAt) / 1000;
          const after = treeCpuMs(pid)!;
          const calls = tracer && (await tracer.stop());
          const sample: CpuSplitRound = {
            round,
            path,
            phase,
            recordsPerSecond,
            seconds,
            userMsPerMiB: (after.userMs - before.userMs) / mib,
            systemMsPerMiB: (after.systemMs - before.systemMs) / mib,
            syscallsPerMiB: calls && Object.fromEntries(COUNTED_SYSCALLS.map((name) => [name, Math.round((calls[name] ?? 0) / mib)])),
          };
          samples.push(sample);
          log(`cpu-split: round ${round}/${options.rounds}, ${path}, ${phase}: user ${sample.userMsPerMiB.toFixed(2)} + system ${sample.systemMsPerMiB.toFixed(2)} CPU ms/MiB`);
        }
      }
    }
    if (proxy.problems.length) throw new Error(`the proxy logged problems:\n${proxy.problems.slice(0, 10).join('\n')}`);
    return { ...options, samples };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(workDir, { recursive: true, force: true });
    unregister();
  }
}

/** `strace -c -f` attached to `pids`; stop() detaches it and gives the calls it counted, by syscall. */
async function startStrace(pids: number[]): Promise<{ stop(): Promise<Record<string, number>> }> {
  const child = spawn('strace', ['-c', '-f', ...pids.flatMap((pid) => ['-p', String(pid)])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let summary = '';
  child.stderr.on('data', (chunk: Buffer) => (summary += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`strace could not run (--syscalls needs it): ${e.message}`)));
    child.once('exit', () => resolve());
  });
  await Promise.race([new Promise((resolve) => setTimeout(resolve, STRACE_ATTACH_MS)), exited]);
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return parseStraceSummary(summary);
    },
  };
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

import { rmSync } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { onParentExit } from '../scripts/kafka/exit-hooks.js';
import { ensureBuilt } from './build-dist.js';
import { KafkaPerfTools } from './kafka-perf.js';
import { treeCpuMs } from './process-tree.js';
import { startProxyProcess } from './proxy-process.js';
import { TopicMaker } from './topics.js';

export interface AbResult {
  /** The other build's cli.js. */
  against: string;
  recordSize: number;
  records: number;
  rounds: number;
  /** CPU ms per MiB of each round, per build: producing the round's records, then consuming them. */
  thisBuild: number[];
  otherBuild: number[];
  thisConsume: number[];
  otherConsume: number[];
  /** Medians. */
  thisMedian: number;
  otherMedian: number;
  thisConsumeMedian: number;
  otherConsumeMedian: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The proxy of this checkout (dist/, built if stale) and another build of it (`againstCli`, e.g.
 * a copy of dist/ made before a change) side by side in front of one broker, both transparent
 * with one worker: ProducerPerformance through each in turn, the order alternating by round,
 * and the CPU each spends per MiB produced (warm-up run included), then ConsumerPerformance
 * reading those records back through the same build and the CPU per MiB consumed. One change at a time,
 * measured in one run on one machine: what `--cpu-prof` suggests is then confirmed or not.
 */
export async function runAbBench(againstCli: string, recordSize: number, records: number, rounds: number, log: (line: string) => void): Promise<AbResult> {
  const against = resolve(againstCli);
  await access(against).catch(() => {
    throw new Error(`no build at ${against}: copy dist/ somewhere (inside the repository, so it finds node_modules) before the change and point --against at its cli.js`);
  });
  const workDir = await mkdtemp(join(tmpdir(), 'kafka-proxy-ab-'));
  const unregister = onParentExit(() => rmSync(workDir, { recursive: true, force: true }));
  const stops: (() => Promise<void>)[] = [];
  try {
    await ensureBuilt(log);
    const cluster = await startKafkaCluster({ brokers: 1, log });
    stops.push(() => cluster.stop());
    const broker = cluster.bootstrapServers[0];
    const builds = {
      this: await startProxyProcess(broker, workDir, { name: 'this-build' }),
      other: await startProxyProcess(broker, workDir, { name: 'other-build', cliPath: against }),
    };
    stops.push(() => builds.this.stop(), () => builds.other.stop());
    const tools = await KafkaPerfTools.create(workDir, log);
    const topics = await TopicMaker.connect(broker);
    stops.push(() => topics.close());
    const perMiB: Record<'this' | 'other', number[]> = { this: [], other: [] };
    const consumePerMiB: Record<'this' | 'other', number[]> = { this: [], other: [] };
    const warmup = Math.ceil(records / 4);
    const mib = ((records + warmup) * recordSize) / 2 ** 20;
    let topicCount = 0;
    for (let round = 1; round <= rounds; round++) {
      for (const name of round % 2 === 1 ? (['other', 'this'] as const) : (['this', 'other'] as const)) {
        const proxy = builds[name];
        const topic = `e2e-ab-${++topicCount}`;
        await topics.create(topic, `${topic}-warmup`);
        const target = { bootstrap: proxy.bootstrap, clientProperties: {}, topic, warmupTopic: `${topic}-warmup` };
        const before = treeCpuMs(proxy.pid)!.totalMs;
        const produced = await tools.produce(target, records, recordSize, -1, warmup);
        const produceMs = treeCpuMs(proxy.pid)!.totalMs - before;
        await tools.consume(target, records, warmup);
        const consumeMs = treeCpuMs(proxy.pid)!.totalMs - before - produceMs;
        perMiB[name].push(produceMs / mib);
        consumePerMiB[name].push(consumeMs / mib);
        log(
          `ab: round ${round}/${rounds}, ${name} build: produce ${(produceMs / mib).toFixed(2)} CPU ms/MiB (${Math.round(produced.recordsPerSecond).toLocaleString('en')} rec/s), ` +
            `consume ${(consumeMs / mib).toFixed(2)}`,
        );
      }
    }
    const problems = [...builds.this.problems, ...builds.other.problems];
    if (problems.length) throw new Error(`the proxies logged problems:\n${problems.slice(0, 10).join('\n')}`);
    return {
      against,
      recordSize,
      records,
      rounds,
      thisBuild: perMiB.this,
      otherBuild: perMiB.other,
      thisConsume: consumePerMiB.this,
      otherConsume: consumePerMiB.other,
      thisMedian: median(perMiB.this),
      otherMedian: median(perMiB.other),
      thisConsumeMedian: median(consumePerMiB.this),
      otherConsumeMedian: median(consumePerMiB.other),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    await rm(workDir, { recursive: true, force: true });
    unregister();
  }
}

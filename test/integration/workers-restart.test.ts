import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../scripts/kafka/ports.js';
import { type StreamingClient, type TrafficLine, startJavaTraffic, startPythonTraffic } from '../support/interop-clients.js';
import { ensureBuilt } from '../../bench/build-dist.js';
import { type ProxyCli, startProxyCli } from './helpers/proxy-cli.js';
import { createTopic } from './helpers/topics.js';

/** Records per second from each producer: 50 a second keeps every partition busy between restarts. */
const RATE = 50;
/** Members per group. */
const CONSUMERS = 2;
/**
 * How long traffic flows between two disruptions: more than librdkafka's reconnect.backoff.max.ms
 * (10 s), after which it starts its reconnect backoff again from 100 ms. Disruptions closer
 * together than that make it wait up to 10 s per reconnect, which is the client's doing.
 */
const FLOW_MS = 11_000;
/**
 * The longest a client may wait across a restart. A drain takes up to shutdownGraceMs (3 s) and
 * clients then reconnect with backoffs of a second or so; 10 s leaves room for a loaded 2-core
 * machine and is still far under the 45 s group session timeout past which members are dropped.
 */
const MAX_PAUSE_MS = 10_000;

type Acked = Extract<TrafficLine, { acked: string }>;
type Consumed = Extract<TrafficLine, { consumed: string }>;
const isAcked = (l: TrafficLine): l is Acked => 'acked' in l && 'at' in l;
const isConsumed = (l: TrafficLine): l is Consumed => 'consumed' in l && 'at' in l;
const isError = (l: TrafficLine): l is Extract<TrafficLine, { error: string }> => 'error' in l;

/**
 * Issue 15: idempotent acks=all producers and consumer groups of two client implementations
 * (Java kafka-clients, librdkafka) run through a two-worker proxy while all its workers are
 * restarted three times and one worker is killed. Users must notice nothing but a short pause.
 */
describe('workers: restarts and a killed worker under client traffic', () => {
  const kafka = inject('kafka');
  const dir = mkdtempSync(join(tmpdir(), 'workers-restart-'));
  const topic = `wr-${randomUUID()}`;
  let cli: ProxyCli | undefined;
  const clients: StreamingClient[] = [];
  let probe: Probe | undefined;

  afterAll(async () => {
    probe?.stop();
    for (const client of clients) client.kill();
    if (!cli) return;
    cli.signal('SIGTERM');
    const stopped = await Promise.race([cli.exited.then(() => true), sleep(15_000, false)]);
    if (!stopped) cli.signal('SIGKILL');
  });

  it('consumes every acknowledged record exactly once, with no fatal error and no refused connection', async () => {
    const [port, adminPort] = await pickFreePorts(2);
    const base = await pickFreePortBase(kafka.brokers.map((b) => b.nodeId));
    const configFile = join(dir, 'proxy.yaml');
    writeFileSync(
      configFile,
      stringify({
        workers: 2,
        upstream: { bootstrapServers: kafka.bootstrapServers },
        listeners: [{ name: 'plain', bind: '127.0.0.1', port, advertisedHost: '127.0.0.1', brokerPorts: { base }, authentication: 'none',
          // The probe alone opens 80 connections a second from 127.0.0.1, past the default per-IP rate.
          limits: { maxNewConnectionsPerSecondPerIp: 10_000 } }],
        limits: { shutdownGraceMs: 3_000 },
        admin: { bind: '127.0.0.1', port: adminPort },
      }),
    );
    // Built, as users run it: a worker started through tsx compiles every source file again,
    // which on this 2-core machine takes the cores from the clients for 15-20 s per restart.
    await ensureBuilt(() => {});
    cli = startProxyCli(configFile, { built: true });
    const proxy = cli;
    await proxy.waitFor((l) => l.msg === 'workers ready', { timeoutMs: 30_000 });
    await createTopic({ topic, numPartitions: 6, replicationFactor: kafka.brokers.length });

    probe = startProbe([port, ...kafka.brokers.map((b) => base + b.nodeId)]);
    const bootstrap = `127.0.0.1:${port}`;
    // One group per client, each reading the whole topic (both producers' records): every
    // record is checked against two group implementations, and the groups never share partitions.
    // The test waits for the groups itself; the clients' own drain only covers a straggler.
    const options = ['--rate', String(RATE), '--consumers', String(CONSUMERS), '--drain-timeout-ms', '20000'];
    const java = await startJavaTraffic([bootstrap, topic, `${topic}-java`, ...options]);
    clients.push(java);
    const python = startPythonTraffic([bootstrap, topic, `${topic}-python`, ...options]);
    clients.push(python);

    // Steady state first: both members of each group consume, and records from both producers.
    const steady = (c: StreamingClient) => {
      const consumed = c.lines.filter(isConsumed);
      return Array.from({ length: CONSUMERS }, (_, m) => m).every((m) => consumed.some((l) => l.member === m)) && ['java-', 'python-'].every((p) => consumed.some((l) => l.consumed.startsWith(p)));
    };
    await until('both groups to consume from both producers', () => clients.every(steady), 60_000);

    const windowStart = Date.now();
    for (let restart = 1; restart <= 3; restart++) {
      const from = proxy.lines.length;
      proxy.signal('SIGUSR2');
      const outcome = await proxy.waitFor((l) => l.msg === 'restart complete' || l.msg === 'restart failed', { from, timeoutMs: 30_000 });
      expect(outcome, `restart ${restart}`).toMatchObject({ msg: 'restart complete' });
      await flow();
    }

    const generation = Math.max(...proxy.lines.filter((l) => l.msg === 'restart complete').map((l) => l.generation as number));
    const victim = proxy.lines.filter((l) => l.msg === 'worker ready' && l.generation === generation).at(-1)!;
    const from = proxy.lines.length;
    process.kill(victim.pid!, 'SIGKILL');
    const crash = await proxy.waitFor((l) => l.msg === 'worker crashed', { from, timeoutMs: 10_000 });
    expect(crash).toMatchObject({ worker: victim.worker, pid: victim.pid, signal: 'SIGKILL' });
    await proxy.waitFor((l) => l.msg === 'worker ready', { from: proxy.lines.indexOf(crash), timeoutMs: 30_000 });
    await flow();
    const windowEnd = Date.now();
    probe.stop();

    // Stop both producers before either group closes, so each group can be waited on for both.
    for (const c of clients) c.send('pause');
    await until('both producers to flush', () => clients.every((c) => c.lines.some((l) => 'flushed' in l)), 60_000);
    const acked = new Set(clients.flatMap((c) => c.lines.filter(isAcked).map((l) => l.acked)));
    const consumedAll = (c: StreamingClient) => {
      const consumed = new Set(c.lines.filter(isConsumed).map((l) => l.consumed));
      return [...acked].every((v) => consumed.has(v));
    };
    // On failure, the assertions below say which records are missing.
    await until('both groups to consume every acked record', () => clients.every(consumedAll), 60_000).catch(() => {});
    for (const c of clients) c.send('stop');
    const exits = await Promise.all(clients.map((c) => c.exited));

    const pauses = {
      'java producer': longestGap(java.lines.filter(isAcked), windowStart, windowEnd),
      'python producer': longestGap(python.lines.filter(isAcked), windowStart, windowEnd),
      'java group': longestGap(java.lines.filter(isConsumed), windowStart, windowEnd),
      'python group': longestGap(python.lines.filter(isConsumed), windowStart, windowEnd),
    };
    const errors = clients.map((c) => `${c.name} ${c.lines.filter(isError).length}`).join(', ');
    // More assignments than members means a rebalance, the usual source of records consumed twice.
    const assignments = clients.map((c) => `${c.name} ${c.lines.filter((l) => 'assigned' in l).length}`).join(', ');
    console.log(
      `workers restart: longest pause ${Math.max(...Object.values(pauses))} ms (${Object.entries(pauses)
        .map(([who, ms]) => `${who} ${ms} ms`)
        .join(', ')}) over ${windowEnd - windowStart} ms of 3 restarts and a SIGKILL; ` +
        `${acked.size} records acked; probe: ${probe.connected} connects, ${probe.refused.length} refused, ${probe.otherErrors.length} other errors; ` +
        `non-fatal client errors: ${errors}; assignments: ${assignments}`,
    );

    for (const c of clients) {
      const texts = [...new Set(c.lines.filter(isError).map((l) => `${l.source}: ${l.error}`))];
      if (texts.length) console.log(`${c.name} errors:\n  ${texts.slice(0, 20).join('\n  ')}`);
    }
    const gaps = (events: { at: number }[]) => {
      const times = events.map((e) => e.at).sort((x, y) => x - y);
      return times.slice(1).flatMap((at, i) => (at - times[i] > 2_000 ? [`${new Date(times[i]).toISOString().slice(11, 23)}+${at - times[i]}ms`] : []));
    };
    console.log(
      `gaps over 2 s: ${clients.map((c) => `${c.name} acks [${gaps(c.lines.filter(isAcked)).join(' ')}] consumed [${gaps(c.lines.filter(isConsumed)).join(' ')}]`).join('; ')}\n` +
        `proxy: ${proxy.lines
          .filter((l) => ['restarting workers', 'worker ready', 'worker exited', 'worker crashed', 'restart complete'].includes(l.msg))
          .map((l) => `${String(l.time).slice(11, 23)} ${l.msg}${l.worker === undefined ? '' : ` ${l.worker}`}`)
          .join(', ')}`,
    );
    const proxyProblems = proxy.lines.filter((l) => l.level === 'warn' || l.level === 'error');
    if (proxyProblems.length) console.log(`proxy warnings and errors:\n  ${proxyProblems.slice(0, 30).map((l) => JSON.stringify(l)).join('\n  ')}`);

    for (const c of clients) {
      expect(c.lines.filter((l) => isError(l) && l.fatal), `${c.name}: fatal errors`).toEqual([]);
      expect(c.lines.at(-1), `${c.name}: its last line`).toMatchObject({ done: true });
      const seen = new Map<string, number>();
      for (const l of c.lines.filter(isConsumed)) seen.set(l.consumed, (seen.get(l.consumed) ?? 0) + 1);
      expect([...acked].filter((v) => !seen.has(v)), `${c.name}: acked records its group never consumed`).toEqual([]);
      expect([...seen].filter(([, n]) => n > 1), `${c.name}: records its group consumed more than once`).toEqual([]);
    }
    expect(exits).toEqual([0, 0]);
    expect(probe.refused, 'refused connection attempts (port, epoch ms)').toEqual([]);
    expect(probe.otherErrors, 'failed connection attempts (port, epoch ms, error)').toEqual([]);
    expect(probe.connected).toBeGreaterThan(0);
    expect(proxy.lines.filter((l) => l.msg === 'worker crashed'), 'only the killed worker crashed').toHaveLength(1);
    expect(proxy.stderr).toEqual([]);
    for (const [who, ms] of Object.entries(pauses)) expect(ms, `${who}: longest pause`).toBeLessThan(MAX_PAUSE_MS);
  }, 240_000);

  /** Lets traffic run between disruptions; fails early if a client has died meanwhile. */
  async function flow(): Promise<void> {
    await sleep(FLOW_MS);
    for (const c of clients) c.assertRunning();
  }

  /** Polls `done`, failing at once if a client exits and after `timeoutMs`. */
  async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      for (const c of clients) c.assertRunning();
      if (Date.now() > deadline) {
        const state = clients.map((c) => `${c.name}: ${c.lines.filter(isAcked).length} acked, consumed per member ${JSON.stringify(Array.from({ length: CONSUMERS }, (_, m) => c.lines.filter((l) => isConsumed(l) && l.member === m).length))}, last line ${JSON.stringify(c.lines.at(-1))}`);
        throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms; ${state.join('; ')}`);
      }
      await sleep(100);
    }
  }
});

/** The largest gap between consecutive events from `from` on, up to the first event after `to` (a pause still running at `to` counts whole), in ms. */
function longestGap(events: { at: number }[], from: number, to: number): number {
  const sorted = events.map((e) => e.at).filter((at) => at >= from).sort((a, b) => a - b);
  const after = sorted.findIndex((at) => at > to);
  const times = after === -1 ? sorted : sorted.slice(0, after + 1);
  expect(times.length, 'events in the restart window').toBeGreaterThan(1);
  return Math.max(...times.slice(1).map((at, i) => at - times[i]));
}

interface Probe {
  connected: number;
  refused: { port: number; at: number }[];
  otherErrors: { port: number; at: number; error: string }[];
  stop(): void;
}

/** Every ~50 ms opens a connection to each port and closes it as soon as it is accepted. */
function startProbe(ports: number[]): Probe {
  const probe: Probe = { connected: 0, refused: [], otherErrors: [], stop: () => clearInterval(timer) };
  const timer = setInterval(() => {
    for (const port of ports) {
      const at = Date.now();
      const socket = connect({ host: '127.0.0.1', port });
      // Loopback connects complete or fail at once; only a full accept queue could leave one hanging.
      socket.setTimeout(5_000, () => socket.destroy(new Error('connect timeout')));
      socket.once('connect', () => {
        probe.connected++;
        socket.destroy();
      });
      socket.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') probe.refused.push({ port, at });
        else probe.otherErrors.push({ port, at, error: e.message });
      });
    }
  }, 50);
  return probe;
}

import { loadavg } from 'node:os';
import { LOOPBACK } from '../scripts/kafka/ports.js';
import { PROBE_PER_SECOND } from './e2e.js';
import { type ProbeResult, probeProduceLatency } from './latency-probe.js';
import { withRelayAndProxy } from './relay-proxy-env.js';

export interface QuietLatencyOptions {
  rounds: number;
  /** How long each probe runs. */
  seconds: number;
}

export interface QuietLatencySample extends ProbeResult {
  round: number;
  path: 'direct' | 'relay' | 'proxy';
  loadAverage: number;
}

export interface QuietLatencyResult extends QuietLatencyOptions {
  samples: QuietLatencySample[];
}

/** Round trips on each new connection and topic before the measured ones. */
export const WARMUP_SECONDS = 3;
/** Before the first round, every path is probed this long unmeasured, so the first path measured does not pay for the broker's JIT warm-up. */
export const FIRST_WARMUP_SECONDS = 15;

/**
 * The e2e latency probe with nothing else running: one Produce request at a time (acks=1, one
 * 1 KiB record) straight to the broker, through the bare relay and through the proxy
 * (transparent, one worker), PROBE_PER_SECOND a second, paths alternating round by round. Under
 * e2e's load the probe also measures how long a busy forwarder makes a request wait; here only
 * what one hop costs a request on its own.
 */
export async function runQuietLatencyBench(options: QuietLatencyOptions, log: (line: string) => void): Promise<QuietLatencyResult> {
  return withRelayAndProxy('quiet-latency', log, [], async ({ broker, relay, proxy, topics }) => {
    const hostPort = (address: string) => {
      const [host, port] = address.split(':');
      return { host, port: Number(port) };
    };
    const paths = [
      { path: 'direct' as const, ...hostPort(broker) },
      { path: 'relay' as const, host: LOOPBACK, port: relay.port },
      { path: 'proxy' as const, ...hostPort(proxy.bootstrap) },
    ];
    for (const { path, host, port } of paths) {
      const topic = `quiet-latency-${path}-warmup`;
      await topics.create(topic);
      await probeProduceLatency({ host, port, topic }, 0, FIRST_WARMUP_SECONDS, PROBE_PER_SECOND);
      log(`quiet-latency: warmed up ${path}`);
    }
    const samples: QuietLatencySample[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      // Each path goes first, in the middle and last in turn.
      const shift = (round - 1) % paths.length;
      for (const { path, host, port } of [...paths.slice(shift), ...paths.slice(0, shift)]) {
        const topic = `quiet-latency-${path}-${round}`;
        await topics.create(topic);
        await probeProduceLatency({ host, port, topic }, 0, WARMUP_SECONDS, PROBE_PER_SECOND);
        const probed = await probeProduceLatency({ host, port, topic }, 0, options.seconds, PROBE_PER_SECOND);
        samples.push({ round, path, loadAverage: loadavg()[0], ...probed });
        log(`quiet-latency: round ${round}/${options.rounds}, ${path}: p50 ${probed.p50Us} µs, p99 ${probed.p99Us} µs (${probed.samples} round trips)`);
      }
    }
    return { ...options, samples };
  });
}

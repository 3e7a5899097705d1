import { parseArgs } from 'node:util';

export const RECORD_SIZES = [100, 1024] as const;
export type RecordSize = (typeof RECORD_SIZES)[number];

export interface E2eOptions {
  /** Times every configuration is measured, round-robin; the report shows medians. */
  rounds: number;
  /** Records per throughput measurement, by record size. */
  records: Record<RecordSize, number>;
  /** Length of each fixed-rate latency measurement. */
  latencySeconds: number;
  /** Send traffic through every path before measuring, so no path pays for the broker's JIT warm-up. */
  warmUpBroker: boolean;
  /** `workers` of every proxy path (the relay and direct have none). */
  workers: number;
  /** Also measure the proxy and proxy+authz paths with the access recorder on (accessRecording, recordAccess). */
  record: boolean;
  /** Measure the peers instead of the proxy's TLS and authz paths (`npm run bench -- peers`), and each path's memory per idle connection. */
  peers?: { grepplabs?: string; idleConnections: number };
}

// Sized for ~8 minutes on 2 cores (5 paths): each run takes a few seconds, plus a quarter as long for
// its warm-up and ~1 s of JVM start.
const FULL: E2eOptions = { rounds: 3, records: { 100: 500_000, 1024: 150_000 }, latencySeconds: 6, warmUpBroker: true, workers: 1, record: false };
const QUICK: E2eOptions = { rounds: 1, records: { 100: 50_000, 1024: 15_000 }, latencySeconds: 2, warmUpBroker: false, workers: 1, record: false };

const E2E_USAGE = `npm run bench -- e2e [--quick] [--rounds N] [--records N] [--workers N] [--record]
  --quick       one round of short runs without warming the broker up (~1 minute): a smoke test, not a measurement
  --rounds N    times each configuration is measured (default 3; medians are reported)
  --records N   records per throughput run, for every record size (default 500000 at 100 B, 150000 at 1 KiB)
  --workers N   worker processes of every proxy path (default 1); results go to bench/results/e2e.* for 1,
                e2e-workers-N.* otherwise
  --record      also proxy+record and proxy+authz+record: the same proxies with the access recorder on
                (a transparent listener that records decodes every request); results go to e2e-record.*`;

export function parseE2eOptions(args: string[]): E2eOptions {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, records: { type: 'string' }, workers: { type: 'string' }, record: { type: 'boolean' } } }));
  } catch (e) {
    throw new Error(`${(e as Error).message}\nusage: ${E2E_USAGE}`);
  }
  const options = structuredClone(values.quick ? QUICK : FULL);
  if (values.rounds !== undefined) options.rounds = positiveInteger('--rounds', values.rounds);
  if (values.records !== undefined) {
    const records = positiveInteger('--records', values.records);
    for (const size of RECORD_SIZES) options.records[size] = records;
  }
  if (values.workers !== undefined) options.workers = positiveInteger('--workers', values.workers);
  options.record = values.record ?? false;
  return options;
}

function positiveInteger(flag: string, text: string, usage = E2E_USAGE): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(text)}\nusage: ${usage}`);
  return n;
}

const PEERS_USAGE = `npm run bench -- peers [--quick] [--rounds N] [--records N] [--idle-connections N] [--grepplabs PATH]
  --quick               one round of short runs without warming the broker up: a smoke test, not a measurement
  --rounds N            times each path is measured (default 3; medians are reported)
  --records N           records per throughput run, for every record size
  --idle-connections N  idle connections per forwarder for its memory per connection (default 2000)
  --grepplabs PATH      also grepplabs/kafka-proxy, from this binary (built by you: the bench cannot fetch it)`;

/** Options of the peers' run: the e2e harness with Kroxylicious (and grepplabs/kafka-proxy when given) beside direct, the relay and the proxy. */
export function parsePeersOptions(args: string[]): E2eOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { quick: { type: 'boolean' }, rounds: { type: 'string' }, records: { type: 'string' }, 'idle-connections': { type: 'string' }, grepplabs: { type: 'string' } },
    }));
  } catch (e) {
    throw new Error(`${(e as Error).message}\nusage: ${PEERS_USAGE}`);
  }
  const options = structuredClone(values.quick ? QUICK : FULL);
  if (values.rounds !== undefined) options.rounds = positiveInteger('--rounds', values.rounds, PEERS_USAGE);
  if (values.records !== undefined) {
    const records = positiveInteger('--records', values.records, PEERS_USAGE);
    for (const size of RECORD_SIZES) options.records[size] = records;
  }
  const idle = values['idle-connections'];
  options.peers = { grepplabs: values.grepplabs, idleConnections: idle === undefined ? 2_000 : positiveInteger('--idle-connections', idle, PEERS_USAGE) };
  return options;
}

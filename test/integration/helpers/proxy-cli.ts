import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { CLI_PATH, PROXY_NODE_FLAGS } from '../../../bench/build-dist.js';

/** One JSON log line of the proxy (supervisor or worker). */
export interface CliLogLine {
  msg: string;
  level: string;
  worker?: number;
  pid?: number;
  [key: string]: unknown;
}

export interface ProxyCli {
  pid: number;
  lines: CliLogLine[];
  /** What the process wrote to stderr (nothing, when all is well). */
  stderr: string[];
  /** Waits for a line matching `match` at or after index `from` of `lines`; returns it. */
  waitFor(match: (line: CliLogLine) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<CliLogLine>;
  /** The workers that accept now: id -> pid, from the ready and exit lines. */
  readyWorkers(): Map<number, number>;
  signal(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

/**
 * Runs `kafka-auth-proxy --config <file>`: the supervisor and its workers. From source through tsx,
 * or with `built` as users run it, from dist/ (call bench/build-dist.ts ensureBuilt first): a
 * worker then starts in about a second instead of compiling the sources again.
 */
export function startProxyCli(configFile: string, opts: { built?: boolean } = {}): ProxyCli {
  const entry = opts.built ? [...PROXY_NODE_FLAGS, CLI_PATH] : ['--import', 'tsx', 'src/cli.ts'];
  const child: ChildProcess = spawn(process.execPath, [...entry, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: CliLogLine[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as CliLogLine));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid!,
    lines,
    stderr,
    async waitFor(match, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
      for (;;) {
        const found = lines.slice(opts.from ?? 0).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no such log line; the last ones:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n${stderr.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    readyWorkers() {
      const ready = new Map<number, number>();
      for (const l of lines) {
        if (l.worker === undefined || l.pid === undefined) continue;
        if (l.msg === 'worker ready') ready.set(l.worker, l.pid);
        if (l.msg === 'worker exited' || l.msg === 'worker crashed') ready.delete(l.worker);
      }
      return ready;
    },
    signal(signal) {
      child.kill(signal);
    },
    exited,
  };
}

/** The value of one series in an admin /metrics answer (Prometheus text), 0 when absent. */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export async function scrape(adminPort: number, worker?: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics${worker === undefined ? '' : `?worker=${worker}`}`);
  expect(res.status).toBe(200);
  return res.text();
}

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { z } from 'zod';
import { LOOPBACK, pickFreePortBase } from '../scripts/kafka/ports.js';
import type { configSchema } from '../src/config/schema.js';
import { CLI_PATH, PROXY_NODE_FLAGS } from './build-dist.js';
import { spawnOwned } from './child-process.js';

export interface ProxyProcess {
  /** "127.0.0.1:port" clients bootstrap at. */
  bootstrap: string;
  /** The CLI's process, the supervisor; its workers are its children (see process-tree.ts). */
  pid: number;
  /** Log lines at warn level or above, seen so far: any of them puts the run's numbers in doubt. */
  problems: string[];
  /** Resolves, saying how, when the process ends. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/** Workers start in parallel; on 2 busy cores one took 8-11 s (docs/operations.md, "Workers, restarts and upgrades"). */
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const TAIL_LINES = 30;
const PROBLEM_LEVELS = ['warn', 'error', 'fatal'];
/** Logged at info, but the bench's clients are granted everything they do: a denial means the policy is measured wrong. */
const DENIAL = 'authorization denied';
/** The supervisor's line once every worker of the first generation accepts. */
const WORKERS_READY = 'workers ready';

type ConfigInput = z.input<typeof configSchema>;
type ListenerInput = ConfigInput['listeners'][number];

export interface ProxySetup {
  /** Names the config file, so that proxies can share a work dir. */
  name: string;
  /** How the listener authenticates and authorizes (none by default), and its TLS (plaintext by default). */
  listener?: Pick<ListenerInput, 'authentication' | 'mode' | 'tls' | 'recordAccess' | 'limits'>;
  /** The top-level sections that listener needs, e.g. oauthbearer, authorization and accessRecording. */
  sections?: Pick<ConfigInput, 'oauthbearer' | 'authorization' | 'accessRecording'>;
  /** Worker processes (default 1, as the figures before workers existed: one process forwarding). */
  workers?: number;
  /** Another build's cli.js than dist/cli.js, to compare two builds in one run. */
  cliPath?: string;
  /** Node flags for the supervisor, which its workers inherit. */
  nodeArgs?: string[];
}

/**
 * Starts `node dist/cli.js --config <yaml>` as users run it: the supervisor and `setup.workers`
 * workers (1 unless set), one listener, without authentication unless `setup` says otherwise,
 * in front of `upstream`, for a single broker with node id 1. Resolves once it has logged
 * "listening" for its bootstrap port and that broker's port, and the supervisor "workers ready"
 * (every worker accepts). `pid` is the supervisor's: measure it with process-tree.ts.
 */
export async function startProxyProcess(upstream: string, workDir: string, setup: ProxySetup = { name: 'proxy' }): Promise<ProxyProcess> {
  // Node N is served on base + N: the bootstrap port takes base itself, broker 1 base + 1.
  const base = await pickFreePortBase([0, 1]);
  const configFile = join(workDir, `${setup.name}.yaml`);
  await writeFile(
    configFile,
    stringify({
      workers: setup.workers ?? 1,
      upstream: { bootstrapServers: [upstream] },
      listeners: [
        { name: 'bench', bind: LOOPBACK, port: base, advertisedHost: LOOPBACK, brokerPorts: { base }, authentication: 'none', ...setup.listener },
      ],
      ...setup.sections,
      // info, the default, rather than warn: "listening" is an info line, and otherwise info
      // adds one line per closed connection, not per request.
      logging: { level: 'info' },
    }),
  );

  // BENCH_PROXY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the proxy under the bench's load (Node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = [...(setup.nodeArgs ?? []), ...(process.env.BENCH_PROXY_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [])];
  const cli = setup.cliPath ?? CLI_PATH;
  const child = spawnOwned(process.execPath, [...PROXY_NODE_FLAGS, ...nodeArgs, cli, '--config', configFile]);
  const tail: string[] = [];
  const problems: string[] = [];
  const waitingFor = new Set<number | string>([base, base + 1, WORKERS_READY]);
  let ready: () => void = () => {};
  const listening = new Promise<void>((resolve) => (ready = resolve));
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  createInterface({ input: child.stderr }).on('line', (line) => {
    remember(line);
    problems.push(line);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    remember(line);
    const entry = parseLogLine(line);
    if (entry?.msg === 'listening' && typeof entry.port === 'number') waitingFor.delete(entry.port);
    if (entry?.msg === WORKERS_READY) waitingFor.delete(WORKERS_READY);
    if (waitingFor.size === 0) ready();
    if (entry === undefined || PROBLEM_LEVELS.includes(String(entry.level)) || entry.msg === DENIAL) problems.push(line);
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`)));

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening.then(() => undefined),
    exited,
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`did not log "listening" and "${WORKERS_READY}" within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome !== undefined || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`proxy (${cli} --config ${configFile}) ${outcome}; its output ends with:\n${tail.join('\n')}`);
  }

  return {
    bootstrap: `${LOOPBACK}:${base}`,
    pid: child.pid,
    problems,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * What a forwarder process and everything it started use, from /proc: for the proxy, the CLI's
 * process (the supervisor) and its workers; for the relay, its one process. Every bench that
 * measures "the proxy" goes through here, so no figure sees only the supervisor.
 */

let ticksPerSecond: number | undefined;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is state, field N of proc(5) is [N - 3]. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * `pid` and every process descended from it, `pid` first; empty if it does not exist (or there
 * is no /proc). Found by parent pid over /proc/<n>/stat, since /proc/<pid>/task/<tid>/children
 * is missing on kernels without CONFIG_PROC_CHILDREN (this machine's among them).
 */
export function processTree(pid: number): number[] {
  if (statFields(pid) === undefined) return [];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const parent = Number(statFields(child)?.[1]);
    if (!Number.isInteger(parent)) continue; // Gone since the listing.
    const siblings = children.get(parent);
    if (siblings) siblings.push(child);
    else children.set(parent, [child]);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** CPU time of a process tree, in ms: `totalMs` for all of it, `rootMs` for `pid` alone. */
export interface TreeCpu {
  totalMs: number;
  /** Of totalMs, what ran in the processes themselves (user) and in the kernel for them (system): syscalls, the network stack. */
  userMs: number;
  systemMs: number;
  rootMs: number;
  /** How many processes were summed. */
  processes: number;
}

/**
 * CPU time (user + system, all threads) the tree under `pid` has used so far, in ms, including
 * children that have exited and been reaped (their time is in their parent's cutime and
 * cstime); undefined where there is no /proc or `pid` is gone. Unlike throughput, the CPU a
 * forwarder spends per byte barely moves with the machine's other load.
 */
export function treeCpuMs(pid: number): TreeCpu | undefined {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const ms = (ticks: number) => (ticks * 1000) / ticksPerSecond!;
  let userTicks = 0;
  let systemTicks = 0;
  let rootTicks: number | undefined;
  let processes = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (!f) continue;
    // utime, stime, cutime, cstime: fields 14-17.
    userTicks += Number(f[11]) + Number(f[13]);
    systemTicks += Number(f[12]) + Number(f[14]);
    if (p === pid) rootTicks = Number(f[11]) + Number(f[12]);
    processes++;
  }
  if (rootTicks === undefined) return undefined;
  return { totalMs: ms(userTicks + systemTicks), userMs: ms(userTicks), systemMs: ms(systemTicks), rootMs: ms(rootTicks), processes };
}

/**
 * Resident set of the tree under `pid`, in bytes: each process's VmRSS summed, so pages the
 * processes share (Node's code, mapped by every worker) count once per process.
 */
export function treeRssBytes(pid: number): number {
  let bytes = 0;
  for (const p of processTree(pid)) {
    try {
      const line = readFileSync(`/proc/${p}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
      if (line) bytes += Number(line.split(/\s+/)[1]) * 1024;
    } catch {
      // Gone since the listing.
    }
  }
  return bytes;
}

/** Sockets and files the tree under `pid` holds open. */
export function treeOpenFiles(pid: number): number {
  let files = 0;
  for (const p of processTree(pid)) {
    try {
      files += readdirSync(`/proc/${p}/fd`).length;
    } catch {
      // Gone since the listing.
    }
  }
  return files;
}

import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { startAttachedTool } from './attached-tool.js';

/**
 * Where a forwarder's CPU lands, by `perf record` sampling its processes: the kernel, V8's
 * machinery, Node's own JavaScript and C++, and the forwarder's own JavaScript (named, with
 * --perf-basic-prof, from the /tmp/perf-<pid>.map file V8 writes). Counts are samples of the
 * cpu-clock at SAMPLE_HZ, so one sample is about a millisecond of CPU.
 */

export const SAMPLE_HZ = 999;
/** Node writes its JIT symbols to /tmp/perf-<pid>.map with this flag, for perf to name them. */
export const PERF_NODE_FLAG = '--perf-basic-prof';

/** Where a sample can land, by a short name; the report lists them in this order. */
const CATEGORY = {
  kernel: 'kernel (socket calls, network stack, page faults)',
  ownCode: "JavaScript: the forwarder's own code",
  nodeCore: 'JavaScript: Node core (streams, net, events, timers)',
  dependencies: 'JavaScript: dependencies',
  builtins: 'V8 builtins (property access, calls, typed arrays)',
  interpreter: 'V8 interpreter (code not yet compiled)',
  compilers: 'V8 compilers',
  collector: 'V8 garbage collector',
  runtime: 'V8 runtime (other)',
  nodeCpp: 'Node C++ (socket bindings, callbacks into JavaScript)',
  libuv: 'libuv (event loop)',
  libc: 'libc (malloc, memcpy, syscall stubs)',
  other: 'other',
} as const;
export type Category = (typeof CATEGORY)[keyof typeof CATEGORY];
export const CATEGORIES: readonly Category[] = Object.values(CATEGORY);

export interface SymbolSamples {
  dso: string;
  symbol: string;
  samples: number;
}

/** The rows of `perf report --no-children -n --sort dso,sym -g none -t '\t'`: samples per symbol. */
export function parsePerfReport(text: string): SymbolSamples[] {
  const rows: SymbolSamples[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const fields = line.split('\t');
    if (fields.length < 4) continue;
    const samples = Number(fields[1].trim());
    // "[.] name" for user space, "[k] name" for the kernel.
    const symbol = fields[3].trim().replace(/^\[[.kgu]\]\s*/, '');
    if (!Number.isInteger(samples)) continue;
    rows.push({ dso: fields[2].trim(), symbol, samples });
  }
  return rows;
}

/** The category of one symbol (a JIT symbol's name ends with the script it came from). */
export function categorize({ dso, symbol }: Pick<SymbolSamples, 'dso' | 'symbol'>): Category {
  if (dso.includes('kernel')) return CATEGORY.kernel;
  if (dso.startsWith('[JIT]')) {
    if (/ (node:|internal\/)/.test(symbol)) return CATEGORY.nodeCore;
    if (symbol.includes('/node_modules/')) return CATEGORY.dependencies;
    return CATEGORY.ownCode;
  }
  if (dso === 'node') {
    if (/Scaveng|Heap::|MarkCompact|Sweep|Marking|Evacuat|RememberedSet|SlotSet|MemoryAllocator|(^|::)GC/.test(symbol)) return CATEGORY.collector;
    if (/^Builtins_.*Handler|^Builtins_Interpreter/.test(symbol)) return CATEGORY.interpreter;
    if (/compiler::|maglev::|Compile|Bytecode|Parser|Optimiz/i.test(symbol)) return CATEGORY.compilers;
    if (symbol.startsWith('Builtins_')) return CATEGORY.builtins;
    if (/^uv_|^uv__/.test(symbol)) return CATEGORY.libuv;
    if (symbol.startsWith('node::')) return CATEGORY.nodeCpp;
    return CATEGORY.runtime;
  }
  if (/libc|libstdc|vdso|libm\b/.test(dso)) return CATEGORY.libc;
  return CATEGORY.other;
}

/** Samples by category, and those of the forwarder's own JavaScript by function. */
export interface ProfileSummary {
  categories: Partial<Record<Category, number>>;
  ownFunctions: Record<string, number>;
}

export function summarizeProfile(rows: SymbolSamples[]): ProfileSummary {
  const summary: ProfileSummary = { categories: {}, ownFunctions: {} };
  for (const row of rows) {
    const category = categorize(row);
    summary.categories[category] = (summary.categories[category] ?? 0) + row.samples;
    if (category === CATEGORY.ownCode) {
      // "JS:*name file:///…/dist/proxy/x.js:12:3": the function and its file, without the tier mark or the path before the build's root.
      const name = row.symbol.replace(/^JS:[*~^]?/, '').replace(/file:\/\/\/\S*?\/(dist|bench)\//, '$1/');
      summary.ownFunctions[name] = (summary.ownFunctions[name] ?? 0) + row.samples;
    }
  }
  return summary;
}

/** Adds `b` into `a`. */
export function addSummaries(a: ProfileSummary, b: ProfileSummary): ProfileSummary {
  for (const [k, v] of Object.entries(b.categories)) a.categories[k as Category] = (a.categories[k as Category] ?? 0) + v;
  for (const [k, v] of Object.entries(b.ownFunctions)) a.ownFunctions[k] = (a.ownFunctions[k] ?? 0) + v;
  return a;
}

/** `perf record` on `pids` into `file`; stop() ends it and gives the summary of what it sampled. */
export async function startPerf(pids: number[], file: string): Promise<{ stop(): Promise<ProfileSummary> }> {
  const perf = await startAttachedTool('perf', ['record', '-F', String(SAMPLE_HZ), '-o', file, '-p', pids.join(',')], '--profile');
  return {
    async stop() {
      const stderr = await perf.stop();
      let report: string;
      try {
        ({ stdout: report } = await promisify(execFile)('perf', ['report', '-i', file, '--no-children', '-n', '--sort', 'dso,sym', '-g', 'none', '-t', '\t', '--stdio'], {
          maxBuffer: 256 * 1024 * 1024,
        }));
      } catch (e) {
        throw new Error(`perf report failed on ${file}: ${(e as Error).message}\n${stderr}`);
      }
      await rm(file, { force: true });
      return summarizeProfile(parsePerfReport(report));
    },
  };
}

/** The JIT symbol files Node wrote for these processes (they grow for as long as it runs). */
export async function removeJitMaps(pids: number[]): Promise<void> {
  await Promise.all(pids.map((pid) => rm(`/tmp/perf-${pid}.map`, { force: true })));
}

import { PerformanceObserver, performance } from 'node:perf_hooks';

export interface Rate {
  opsPerSecond: number;
  iterations: number;
  seconds: number;
}

/** Runs `fn` repeatedly for about `seconds` after a warm-up and reports calls per second. */
export function measureRate(fn: () => void, seconds = 2, warmup = 20_000): Rate {
  for (let i = 0; i < warmup; i++) fn();
  let iterations = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) fn();
    iterations += 1000;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  return { opsPerSecond: iterations / elapsed, iterations, seconds: elapsed };
}

const gcStarts: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcStarts.push(e.startTime);
}).observe({ entryTypes: ['gc'] });

/**
 * Heap bytes allocated per call, read as the growth of the used heap across `n` calls with no
 * garbage collection in between. Needs node --expose-gc and a young generation large enough to
 * hold n calls' garbage (bench runs with --max-semi-space-size); retries with fewer calls if a
 * collection happened anyway.
 */
export async function measureAllocation(fn: () => void, n = 20_000): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the benchmark with node --expose-gc (npm run bench does)');
  for (let calls = n; calls >= 100; calls = Math.floor(calls / 4)) {
    gc();
    await new Promise((r) => setImmediate(r));
    const t0 = performance.now();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) fn();
    const after = process.memoryUsage().heapUsed;
    const t1 = performance.now();
    // GC entries are delivered asynchronously; wait for them before judging the window.
    await new Promise((r) => setTimeout(r, 50));
    if (!gcStarts.some((t) => t >= t0 && t <= t1)) return Math.max(0, (after - before) / calls);
  }
  throw new Error('a garbage collection ran during every allocation measurement');
}

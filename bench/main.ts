/**
 * Benchmarks: `npm run bench -- <name>`. Each prints progress while it runs and writes JSON and
 * a markdown table to bench/results/.
 *   codec   header + entity scan and header + full decode of Produce and Fetch requests, per
 *           core, with the bytes each allocates per request
 */
import { runCodecBench } from './codec.js';
import { markdownTable, writeResults } from './report.js';

const BENCHES: Record<string, () => Promise<string>> = {
  async codec() {
    const results = await runCodecBench((line) => console.log(line));
    const n = (x: number) => x.toLocaleString('en');
    const table = markdownTable(
      ['request', 'frame bytes', 'header + entity scan /s', 'scan bytes allocated', 'header + full decode /s', 'decode bytes allocated'],
      results.map((r) => [r.name, n(r.frameBytes), n(r.scansPerSecond), n(r.scanBytesAllocated), n(r.decodesPerSecond), n(r.decodeBytesAllocated)]),
    );
    return writeResults('codec', 'npm run bench -- codec', results, table);
  },
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const selected = names.length ? names : Object.keys(BENCHES);
  for (const name of selected) {
    const bench = BENCHES[name];
    if (!bench) {
      console.error(`unknown benchmark ${JSON.stringify(name)}; choose from: ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
    console.log(await bench());
  }
}

await main();

/**
 * Long fuzz run of every request decoder: `npm run fuzz -- [inputs] [seed]`.
 * Defaults to 2,000,000 inputs from a random seed; prints progress and, on failure, the seed,
 * API, version and input that reproduce it.
 */
import { FuzzFailure, fuzzRequestDecoders } from '../support/fuzz-decoders.js';

const target = Number(process.argv[2] ?? 2_000_000);
let seed = Number(process.argv[3] ?? Math.floor(Math.random() * 2 ** 31));
const started = Date.now();
let done = 0;
let lastReport = 0;
while (done < target) {
  try {
    done += fuzzRequestDecoders(seed, 20);
  } catch (e) {
    if (e instanceof FuzzFailure) {
      console.error(`fuzz: FAILED with seed ${seed}: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
  seed++;
  if (Date.now() - lastReport > 2000 || done >= target) {
    lastReport = Date.now();
    const secs = (lastReport - started) / 1000;
    console.log(`fuzz: ${done.toLocaleString('en')} / ${target.toLocaleString('en')} inputs, ${Math.round(done / secs).toLocaleString('en')}/s, no failures (last seed ${seed - 1})`);
  }
}

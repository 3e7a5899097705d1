import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessRecorder } from '../src/migration/access-recorder.js';
import { readRecordingFile, writeRecordingFile, writeRecordingFileInSlices } from '../src/migration/recording-files.js';

export interface RecorderMemoryResult {
  identities: number;
  topicsPerIdentity: number;
  entries: number;
  heapMiB: number;
  rssMiB: number;
  bytesPerEntry: number;
  snapshotMs: number;
  fileMiB: number;
  writeMs: number;
  /** What a worker does: the file written in slices, and the longest the event loop waited meanwhile. */
  slicedWriteMs: number;
  longestStallMs: number;
  readMs: number;
}

/** Runs `work` while a setImmediate ticker measures the longest gap between its ticks: how long the event loop was held. */
async function longestStall(work: () => Promise<void>): Promise<{ ms: number; stallMs: number }> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  running = false;
  return { ms, stallMs: longest };
}

const MiB = 1024 * 1024;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the benchmark with node --expose-gc (npm run bench does)');
  gc();
  gc();
}

/**
 * What the access recorder holds at its default caps: `identities` plaintext clients (an address
 * and client id each) each reading `topics` topics with names as long as real ones, recorded
 * through the same calls a session makes; then a snapshot and its file in one piece, and the
 * file written in slices as a worker writes it, with the longest event-loop stall meanwhile.
 */
export async function runRecorderMemoryBench(progress: (line: string) => void, identities = 10_000, topics = 100): Promise<RecorderMemoryResult> {
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  const recorder = new AccessRecorder({ maxIdentities: identities, maxEntriesPerIdentity: topics });
  const topicNames = Array.from({ length: topics }, (_, t) => `payments.eu-west-1.settlement-events-v${String(t).padStart(3, '0')}`);
  for (let i = 0; i < identities; i++) {
    const identity = recorder.identityOf({ listener: 'legacy', principal: 'ANONYMOUS', clientAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${40_000 + (i % 20_000)}`, clientId: `settlement-consumer-${i}` })!;
    for (const name of topicNames) identity.note('topic', name, 'read');
    if ((i + 1) % 2_000 === 0) progress(`recorder: ${i + 1} of ${identities} identities recorded`);
  }
  collect();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  const rssBytes = process.memoryUsage().rss - rssBefore;
  const entries = identities * topics;
  progress('recorder: snapshot, write and read of the file ...');
  let started = performance.now();
  const snapshot = recorder.snapshot();
  const snapshotMs = performance.now() - started;
  if (snapshot.identities.length !== identities || snapshot.dropped !== 0) throw new Error('the recorder dropped what the bench meant it to hold');
  const dir = await mkdtemp(join(tmpdir(), 'recorder-bench-'));
  try {
    const file = join(dir, 'recording.json');
    started = performance.now();
    await writeRecordingFile(file, snapshot);
    const writeMs = performance.now() - started;
    const fileBytes = (await stat(file)).size;
    const sliced = await longestStall(() => writeRecordingFileInSlices(join(dir, 'sliced.json'), recorder.identityRecorders(), () => recorder.droppedCount));
    if ((await stat(join(dir, 'sliced.json'))).size !== fileBytes) throw new Error('the sliced write wrote another file than the one-piece write');
    started = performance.now();
    await readRecordingFile(file);
    const readMs = performance.now() - started;
    const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
    return {
      identities,
      topicsPerIdentity: topics,
      entries,
      heapMiB: round(heapBytes / MiB),
      rssMiB: round(rssBytes / MiB),
      bytesPerEntry: Math.round(heapBytes / entries),
      snapshotMs: Math.round(snapshotMs),
      fileMiB: round(fileBytes / MiB),
      writeMs: Math.round(writeMs),
      slicedWriteMs: Math.round(sliced.ms),
      longestStallMs: round(sliced.stallMs),
      readMs: Math.round(readMs),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

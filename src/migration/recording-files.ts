import { mkdir, open, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RecordedIdentity, type Recording, mergeRecordings } from './recording.js';

/** Recording files are named recording-<host>-<pid>-<start>.json: one per proxy run, never shared. */
const RECORDING_FILE = /^recording-.+\.json$/;

/** Writes `recording` to `file` whole or not at all: readers never see half a file. */
export async function writeRecordingFile(file: string, recording: Recording): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  // Who uses what, from where: for the operators' eyes only.
  await writeFile(temp, JSON.stringify(recording), { mode: 0o600 });
  await rename(temp, file);
}

/** How long one slice of a sliced write may hold the event loop. */
const SLICE_MS = 5;

/**
 * Writes a recording as writeRecordingFile does, the same bytes for the same identities, but in
 * slices of at most about SLICE_MS of work (snapshot and JSON of whole identities), each handed to
 * an asynchronous write before the next, so a proxy's connections are served between them. At
 * the recorder's caps a whole write is seconds of CPU; in one piece it would stall every
 * connection of the process that long.
 */
export async function writeRecordingFileInSlices(file: string, identities: readonly { snapshot(): RecordedIdentity }[], dropped: () => number): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    let next = 0;
    let chunk = '{"version":1,"identities":[';
    while (next < identities.length) {
      const started = performance.now();
      do {
        chunk += `${next > 0 ? ',' : ''}${JSON.stringify(identities[next].snapshot())}`;
        next += 1;
      } while (next < identities.length && performance.now() - started < SLICE_MS);
      await handle.write(chunk);
      chunk = '';
    }
    await handle.write(`${chunk}],"dropped":${dropped()}}`);
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

export async function readRecordingFile(file: string): Promise<Recording> {
  let recording: Recording;
  try {
    recording = JSON.parse(await readFile(file, 'utf8')) as Recording;
  } catch (e) {
    throw new Error(`${file}: cannot read the recording: ${(e as Error).message}`);
  }
  if (recording.version !== 1 || !Array.isArray(recording.identities)) throw new Error(`${file}: not a recording file (version 1)`);
  return recording;
}

/** The names of the recording files in `dir`, sorted. */
export async function recordingFileNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => RECORDING_FILE.test(n)).sort();
}

/**
 * Every recording file in `dir` (all workers, instances and restarts) merged into one, less the
 * files a compacted file there already holds.
 */
export async function readRecordingDir(dir: string): Promise<Recording> {
  const files = await Promise.all((await recordingFileNames(dir)).map(async (name) => ({ name, recording: await readRecordingFile(join(dir, name)) })));
  const replaced = new Set(files.flatMap((f) => f.recording.replaces ?? []));
  return mergeRecordings(files.filter((f) => !replaced.has(f.name)).map((f) => f.recording));
}

export async function ensureRecordingDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

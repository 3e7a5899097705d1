import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Recording, mergeRecordings } from './recording.js';
import { readRecordingFile, recordingFileNames, writeRecordingFile } from './recording-files.js';

/** Held while a compaction runs: two at once could each merge and delete the other's files. */
const LOCK_FILE = '.compact.lock';

export interface CompactionOutcome {
  /** The file written, or undefined when there was nothing to merge. */
  written: string | undefined;
  merged: string[];
  /** Modified within the age limit: perhaps a running proxy's, which rewrites it whole. */
  recent: string[];
  unreadable: { name: string; error: string }[];
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Merges the recording files in `dir` not modified for `olderThanMs` into one
 * (recording-compacted-<time>.json), then deletes them. A live proxy rewrites its own file with
 * everything it recorded since it started, so a recent file is left alone: merging and deleting
 * it would count its uses twice once that proxy writes again. The new file names the ones it
 * replaces, and readers skip those until they are gone; a compaction that stopped between the two
 * steps is finished by the next. Unreadable files are left where they are.
 */
export async function compactRecordingDir(dir: string, olderThanMs: number, progress: (line: string) => void, now = Date.now()): Promise<CompactionOutcome> {
  const lockPath = join(dir, LOCK_FILE);
  const lock = await open(lockPath, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') throw new Error(`another compaction of ${dir} is running (if none is, one stopped early: remove ${lockPath})`);
    throw e;
  });
  try {
    const outcome: CompactionOutcome = { written: undefined, merged: [], recent: [], unreadable: [], bytesBefore: 0, bytesAfter: 0 };
    const old: { name: string; recording: Recording; bytes: number }[] = [];
    const names = await recordingFileNames(dir);
    for (const [i, name] of names.entries()) {
      if (i > 0 && i % 100 === 0) progress(`compact: read ${i} of ${names.length} files`);
      const info = await stat(join(dir, name));
      if (now - info.mtimeMs < olderThanMs) {
        outcome.recent.push(name);
        continue;
      }
      try {
        old.push({ name, recording: await readRecordingFile(join(dir, name)), bytes: info.size });
      } catch (e) {
        outcome.unreadable.push({ name, error: (e as Error).message });
      }
    }
    // What an earlier compaction merged but did not get to delete is in its file already.
    const replaced = new Set(old.flatMap((f) => f.recording.replaces ?? []));
    const sources = old.filter((f) => !replaced.has(f.name));
    const leftovers = names.filter((n) => replaced.has(n));
    // One old file (or none), and nothing left over: already as compact as it gets.
    if (sources.length < 2 && leftovers.length === 0) return outcome;
    const merged: Recording = { ...mergeRecordings(sources.map((f) => f.recording)), replaces: [...sources.map((f) => f.name), ...leftovers] };
    const written = `recording-compacted-${new Date(now).toISOString().replace(/[:.]/g, '-')}.json`;
    await writeRecordingFile(join(dir, written), merged);
    for (const name of merged.replaces!) await unlink(join(dir, name)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    // Its sources are gone: the list has done its job.
    await writeRecordingFile(join(dir, written), { ...merged, replaces: undefined });
    outcome.written = written;
    outcome.merged = merged.replaces!;
    outcome.bytesBefore = old.reduce((n, f) => n + f.bytes, 0);
    outcome.bytesAfter = (await stat(join(dir, written))).size;
    return outcome;
  } finally {
    await lock.close();
    await unlink(lockPath);
  }
}

export function formatCompaction(dir: string, outcome: CompactionOutcome): string {
  const lines = [
    outcome.written
      ? `merged ${outcome.merged.length} files (${outcome.bytesBefore} bytes) into ${outcome.written} (${outcome.bytesAfter} bytes)`
      : `nothing to compact in ${dir}`,
  ];
  if (outcome.recent.length) lines.push(`left ${outcome.recent.length} recent files (a running proxy may still write them)`);
  for (const u of outcome.unreadable) lines.push(`left ${u.name}: ${u.error}`);
  return `${lines.join('\n')}\n`;
}

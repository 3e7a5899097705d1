import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { RolesCache, SnapshotEntry } from './roles-cache.js';

const snapshotFile = z.object({
  version: z.literal(1),
  writtenAt: z.number(),
  entries: z.array(z.object({ principal: z.string(), roles: z.array(z.string()), fetchedAt: z.number() })),
});

/**
 * The roles cache on disk, rewritten every interval and at stop, read at start: a proxy that
 * restarts while the permissions service is down serves last-known roles at once.
 */
export class RolesSnapshot {
  private timer: NodeJS.Timeout | undefined;
  /** When the file on disk was written (by this process or, until its first write, the one before). */
  writtenAt: number | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly cache: RolesCache,
    /** The file keeps at most this many principals, the most recently answered. */
    private readonly maxEntries: number,
    private readonly log: Logger,
  ) {}

  /** Restores what the file holds; a missing file is a first start, a broken one is logged and ignored. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file: this.file, err: (e as NodeJS.ErrnoException).code }, 'cannot read the roles snapshot; starting without it');
      return;
    }
    let parsed: z.infer<typeof snapshotFile>;
    try {
      parsed = snapshotFile.parse(JSON.parse(text));
    } catch {
      this.log.warn({ file: this.file }, 'the roles snapshot is not a snapshot file; starting without it');
      return;
    }
    this.cache.restore(parsed.entries);
    this.writtenAt = parsed.writtenAt;
    this.log.info({ file: this.file, principals: parsed.entries.length, ageSeconds: Math.round((Date.now() - parsed.writtenAt) / 1000) }, 'roles snapshot loaded');
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.write(), intervalMs);
    this.timer.unref();
  }

  /** Writes the cache now, whole or not at all; a failure is logged and the next write tries again. */
  write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const writtenAt = Date.now();
      const temp = `${this.file}.${process.pid}.tmp`;
      try {
        const entries = mergeEntries(await this.readEntries(), this.cache.snapshot(), this.maxEntries);
        // Who holds which roles: for the operators' eyes only.
        await writeFile(temp, JSON.stringify({ version: 1, writtenAt, entries }), { mode: 0o600 });
        await rename(temp, this.file);
        this.writtenAt = writtenAt;
      } catch (e) {
        this.log.warn({ file: this.file, err: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, 'cannot write the roles snapshot; will retry');
      }
    });
    return this.writing;
  }

  /** What the file holds now (other workers write it too); nothing if it is missing or broken. */
  private async readEntries(): Promise<SnapshotEntry[]> {
    try {
      return snapshotFile.parse(JSON.parse(await readFile(this.file, 'utf8'))).entries;
    } catch {
      return [];
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.write();
  }
}

/**
 * The workers of a proxy share one file: each write keeps what the others wrote, the newer answer
 * for a principal winning. Two writes at once may lose some of the other's entries until its
 * next write; at most `maxPrincipals` newest are kept.
 */
function mergeEntries(onDisk: readonly SnapshotEntry[], own: readonly SnapshotEntry[], maxEntries: number): SnapshotEntry[] {
  const byPrincipal = new Map<string, SnapshotEntry>();
  for (const e of [...onDisk, ...own]) {
    const known = byPrincipal.get(e.principal);
    if (!known || e.fetchedAt >= known.fetchedAt) byPrincipal.set(e.principal, e);
  }
  const entries = [...byPrincipal.values()];
  return entries.length <= maxEntries ? entries : entries.sort((a, b) => b.fetchedAt - a.fetchedAt).slice(0, maxEntries);
}

import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { AccessRecorder } from './access-recorder.js';
import { ensureRecordingDir, writeRecordingFileInSlices } from './recording-files.js';

/**
 * Writes this proxy's recording to its own file in the recording directory, every interval
 * and once more at stop. Other processes (workers, instances, earlier runs) have files of their
 * own beside it; the commands merge them all.
 */
export class RecordingWriter {
  readonly file: string;
  private readonly timer: NodeJS.Timeout;
  /** Writes never overlap: each waits for the one before. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly recorder: AccessRecorder,
    directory: string,
    intervalSeconds: number,
    private readonly log: Logger,
  ) {
    // The start time too: proxies started one after another in one process (tests, embedders) keep their own files.
    this.file = join(directory, `recording-${hostname()}-${process.pid}-${Date.now().toString(36)}.json`);
    this.timer = setInterval(() => void this.write(), intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Writes the recording now; a failure is logged, and the next write tries again. */
  write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const identities = this.recorder.identityRecorders();
      // A process that saw no traffic leaves no file.
      if (identities.length === 0 && this.recorder.droppedCount === 0) return;
      try {
        await ensureRecordingDir(dirname(this.file));
        await writeRecordingFileInSlices(this.file, identities, () => this.recorder.droppedCount);
      } catch (e) {
        this.log.warn({ file: this.file, err: (e as Error).message }, 'cannot write the access recording; will retry');
      }
    });
    return this.writing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.write();
  }
}

import { stat } from 'node:fs/promises';

export interface WatchedFileOptions {
  /** How often the file's mtime, size and inode are checked for changes. */
  watchIntervalMs?: number;
}

export interface WatchedFileEvents<T> {
  /** A new value is in use (not called for the first load). */
  replaced(value: T, reason: string): void;
  /** A reload failed; the previous value stays in use. */
  rejected(error: unknown, reason: string): void;
}

/**
 * A value read from a file and read again when the file changes (polled) or on reload()
 * (SIGHUP). A read that fails keeps the last good value. Used for the credentials file and the
 * policy file, which must never be swapped for a broken version while the proxy runs.
 */
export class WatchedFile<T> {
  /**
   * The file version (mtime, size, inode) of the last read attempt, good or bad. Polling compares
   * against it rather than against the previous poll (as fs.watchFile does), so an edit made
   * while a read is running is not missed, and a broken file is reported once.
   */
  private readVersion = '';
  /** Reloads run one after another, so the last one to finish read the newest file. */
  private queue: Promise<unknown> = Promise.resolve();
  private loading = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    /** The files the value is read from: a change to any of them reads them all again. */
    readonly files: readonly string[],
    private current: T,
    private readonly read: () => Promise<T>,
    private readonly events: WatchedFileEvents<T>,
  ) {}

  get file(): string {
    return this.files[0];
  }

  /** Reads the file and starts watching it; rejects if the first read fails (nothing older to keep). */
  static open<T>(file: string, read: (file: string) => Promise<T>, events: WatchedFileEvents<T>, options: WatchedFileOptions = {}): Promise<WatchedFile<T>> {
    return WatchedFile.openAll([file], () => read(file), events, options);
  }

  /**
   * A value made from several files that change together (a certificate and its key): any change
   * reads them all again, and a read that fails (one replaced before the other) keeps the old value.
   */
  static async openAll<T>(files: readonly string[], read: () => Promise<T>, events: WatchedFileEvents<T>, options: WatchedFileOptions = {}): Promise<WatchedFile<T>> {
    const version = await filesVersion(files);
    const watched = new WatchedFile(files, await read(), read, events);
    watched.readVersion = version;
    watched.timer = setInterval(() => void watched.reloadIfChanged(), options.watchIntervalMs ?? 5_000);
    watched.timer.unref();
    return watched;
  }

  get value(): T {
    return this.current;
  }

  /** Reads the file again; resolves true if the new value is in use, false if the old one was kept. */
  reload(reason = 'reload requested'): Promise<boolean> {
    this.loading += 1;
    const next = this.queue.then(() => this.load(reason)).finally(() => (this.loading -= 1));
    this.queue = next;
    return next;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.loading === 0 && (await filesVersion(this.files)) !== this.readVersion) await this.reload('file changed');
  }

  private async load(reason: string): Promise<boolean> {
    // Taken before reading: an edit after this point shows up as a new version at the next poll.
    this.readVersion = await filesVersion(this.files);
    let value: T;
    try {
      value = await this.read();
    } catch (e) {
      this.events.rejected(e, reason);
      return false;
    }
    this.current = value;
    this.events.replaced(value, reason);
    return true;
  }
}

async function filesVersion(files: readonly string[]): Promise<string> {
  return (await Promise.all(files.map(fileVersion))).join('|');
}

async function fileVersion(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.mtimeNs}:${s.size}:${s.ino}`;
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? ''}`;
  }
}

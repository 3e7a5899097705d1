import { stat } from 'node:fs/promises';
import type { Logger } from '../../observe/logger.js';
import { type AwsCredential, readCredentialsFile } from './credentials-file.js';

/** What the verifier needs from a store: the credential behind an access key id. */
export interface CredentialLookup {
  lookup(accessKeyId: string): AwsCredential | undefined;
}

export interface AwsCredentialStoreOptions {
  /** How often the file's mtime, size and inode are checked for changes. */
  watchIntervalMs?: number;
}

/**
 * The access keys from the `awsMskIam.credentialsFile`, reloaded when the file changes and on
 * reload() (SIGHUP). A file that fails to load leaves the current keys in place, with a warning.
 * Log lines name the file and count keys; they never carry a secret or a session token.
 */
export class AwsCredentialStore implements CredentialLookup {
  private credentials: ReadonlyMap<string, AwsCredential> = new Map();
  /**
   * The file version (mtime, size, inode) of the last load attempt, good or bad. Polling
   * compares against it rather than against the previous poll (as fs.watchFile does), so an edit
   * made while a load is running is not missed, and a broken file is warned about once.
   */
  private loadedVersion = '';
  /** Reloads run one after another, so the last one to finish read the newest file. */
  private queue: Promise<unknown> = Promise.resolve();
  private loading = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly watchIntervalMs: number;

  constructor(
    readonly file: string,
    private readonly log: Logger,
    options: AwsCredentialStoreOptions = {},
  ) {
    this.watchIntervalMs = options.watchIntervalMs ?? 5_000;
  }

  /** Loads the file and starts watching it. Rejects with ConfigError if it is broken: there is nothing older to keep. */
  async start(): Promise<void> {
    this.loadedVersion = await this.version();
    this.credentials = await readCredentialsFile(this.file);
    this.log.info({ credentialsFile: this.file, accessKeys: this.credentials.size }, 'AWS credentials loaded');
    this.timer = setInterval(() => void this.reloadIfChanged(), this.watchIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  lookup(accessKeyId: string): AwsCredential | undefined {
    return this.credentials.get(accessKeyId);
  }

  /** Re-reads the file; resolves true if the new keys are in use, false if the old ones were kept. */
  reload(reason = 'reload requested'): Promise<boolean> {
    this.loading += 1;
    const next = this.queue.then(() => this.load(reason)).finally(() => (this.loading -= 1));
    this.queue = next;
    return next;
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.loading === 0 && (await this.version()) !== this.loadedVersion) await this.reload('file changed');
  }

  private async load(reason: string): Promise<boolean> {
    // Taken before reading: an edit after this point shows up as a new version at the next poll.
    this.loadedVersion = await this.version();
    try {
      this.credentials = await readCredentialsFile(this.file);
      this.log.info({ credentialsFile: this.file, reason, accessKeys: this.credentials.size }, 'AWS credentials reloaded');
      return true;
    } catch (e) {
      const err = (e as Error).message;
      this.log.warn({ credentialsFile: this.file, reason, err, accessKeys: this.credentials.size }, 'AWS credentials file rejected; keeping the previous credentials');
      return false;
    }
  }

  private async version(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.mtimeNs}:${s.size}:${s.ino}`;
    } catch (e) {
      return `unreadable:${(e as NodeJS.ErrnoException).code ?? ''}`;
    }
  }
}

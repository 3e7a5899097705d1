import { WatchedFile, type WatchedFileOptions } from '../../config/watched-file.js';
import type { Logger } from '../../observe/logger.js';
import { type AwsCredential, readCredentialsFile } from './credentials-file.js';

/** What the verifier needs from a store: the credential behind an access key id. */
export interface CredentialLookup {
  lookup(accessKeyId: string): AwsCredential | undefined;
  /** Moves on every reload that put new keys in use: live sessions re-check their key only then. */
  readonly generation: number;
}

export interface AwsCredentialStoreOptions extends WatchedFileOptions {
  /** Told of every reload after the first load: whether the new keys are in use or the file was refused. */
  reloaded?: (outcome: 'success' | 'failure') => void;
}

/**
 * The access keys from the `awsMskIam.credentialsFile`, reloaded when the file changes and on
 * reload() (SIGHUP). A file that fails to load leaves the current keys in place, with a warning.
 * Log lines name the file and count keys; they never carry a secret or a session token.
 */
export class AwsCredentialStore implements CredentialLookup {
  private watched: WatchedFile<ReadonlyMap<string, AwsCredential>> | undefined;
  generation = 0;

  constructor(
    readonly file: string,
    private readonly log: Logger,
    private readonly options: AwsCredentialStoreOptions = {},
  ) {}

  /** Loads the file and starts watching it. Rejects with ConfigError if it is broken: there is nothing older to keep. */
  async start(): Promise<void> {
    const file = this.file;
    this.watched = await WatchedFile.open(
      file,
      readCredentialsFile,
      {
        replaced: (keys, reason) => {
          this.generation += 1;
          this.log.info({ credentialsFile: file, reason, accessKeys: keys.size }, 'AWS credentials reloaded');
          this.options.reloaded?.('success');
        },
        rejected: (e, reason) => {
          this.log.warn(
            { credentialsFile: file, reason, err: (e as Error).message, accessKeys: this.watched?.value.size },
            'AWS credentials file rejected; keeping the previous credentials',
          );
          this.options.reloaded?.('failure');
        },
      },
      this.options,
    );
    this.log.info({ credentialsFile: file, accessKeys: this.watched.value.size }, 'AWS credentials loaded');
  }

  stop(): void {
    this.watched?.stop();
  }

  lookup(accessKeyId: string): AwsCredential | undefined {
    return this.watched?.value.get(accessKeyId);
  }

  /** Re-reads the file; resolves true if the new keys are in use, false if the old ones were kept. */
  reload(reason = 'reload requested'): Promise<boolean> {
    return this.watched ? this.watched.reload(reason) : Promise.resolve(false);
  }
}

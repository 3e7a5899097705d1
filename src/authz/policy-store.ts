import { stat } from 'node:fs/promises';
import { ConfigError } from '../config/load.js';
import type { Logger } from '../observe/logger.js';
import { type CompiledPolicy, compilePolicy } from './compiled-policy.js';
import { readPolicyFile } from './policy-file.js';

export interface PolicyStoreOptions {
  /** How often the file's mtime, size and inode are checked for changes. */
  watchIntervalMs?: number;
}

export type PolicyListener = (policy: CompiledPolicy) => void;

/**
 * The policy from `authorization.policyFile`, reloaded when the file changes and on reload()
 * (SIGHUP). A file that fails to load leaves the current policy in place, with a warning naming
 * each problem; listeners hear of every policy that replaces the current one, so sessions can
 * re-derive their grants and drop cached decisions.
 */
export class PolicyStore {
  private readonly listeners = new Set<PolicyListener>();
  /** The file version of the last load attempt, good or bad: a broken file is warned about once, and an edit during a load is seen at the next poll. */
  private loadedVersion = '';
  /** Reloads run one after another, so the last one to finish read the newest file. */
  private queue: Promise<unknown> = Promise.resolve();
  private loading = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly file: string,
    private policy: CompiledPolicy,
    private readonly log: Logger,
  ) {}

  /** Loads the file and starts watching it. Rejects with ConfigError if it is broken: there is nothing older to keep. */
  static async open(file: string, log: Logger, options: PolicyStoreOptions = {}): Promise<PolicyStore> {
    const version = await fileVersion(file);
    const store = new PolicyStore(file, compilePolicy(await readPolicyFile(file)), log);
    store.loadedVersion = version;
    log.info({ policyFile: file, roles: store.policy.roleCount, bindings: store.policy.bindingCount }, 'policy loaded');
    store.timer = setInterval(() => void store.reloadIfChanged(), options.watchIntervalMs ?? 5_000);
    store.timer.unref();
    return store;
  }

  get current(): CompiledPolicy {
    return this.policy;
  }

  /** Calls `fn` with each new policy once it is in use; returns a function that unregisters it. */
  onChange(fn: PolicyListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the file; resolves true if the new policy is in use, false if the old one was kept. */
  reload(reason = 'reload requested'): Promise<boolean> {
    this.loading += 1;
    const next = this.queue.then(() => this.load(reason)).finally(() => (this.loading -= 1));
    this.queue = next;
    return next;
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.loading === 0 && (await fileVersion(this.file)) !== this.loadedVersion) await this.reload('file changed');
  }

  private async load(reason: string): Promise<boolean> {
    // Taken before reading: an edit after this point shows up as a new version at the next poll.
    this.loadedVersion = await fileVersion(this.file);
    let policy: CompiledPolicy;
    try {
      policy = compilePolicy(await readPolicyFile(this.file));
    } catch (e) {
      const problems = e instanceof ConfigError ? e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) : [String(e)];
      this.log.warn({ policyFile: this.file, reason, problems }, 'policy file rejected; keeping the previous policy');
      return false;
    }
    this.policy = policy;
    this.log.info({ policyFile: this.file, reason, roles: policy.roleCount, bindings: policy.bindingCount }, 'policy reloaded');
    for (const fn of this.listeners) {
      // One failing listener must not keep the others on the old policy.
      try {
        fn(policy);
      } catch (e) {
        this.log.error({ policyFile: this.file, err: (e as Error).message }, 'policy change listener failed');
      }
    }
    return true;
  }
}

async function fileVersion(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.mtimeNs}:${s.size}:${s.ino}`;
  } catch (e) {
    return `unreadable:${(e as NodeJS.ErrnoException).code ?? ''}`;
  }
}

import { ConfigError } from '../config/load.js';
import { WatchedFile, type WatchedFileOptions } from '../config/watched-file.js';
import type { Logger } from '../observe/logger.js';
import { type CompiledPolicy, compilePolicy } from './compiled-policy.js';
import { readPolicyFile } from './policy-file.js';

export type PolicyStoreOptions = WatchedFileOptions;

export type PolicyListener = (policy: CompiledPolicy) => void;

/**
 * The policy from `authorization.policyFile`, reloaded when the file changes and on reload()
 * (SIGHUP). A file that fails to load leaves the current policy in place, with a warning naming
 * each problem; listeners hear of every policy that replaces the current one, so sessions can
 * re-derive their grants and drop cached decisions.
 */
export class PolicyStore {
  private readonly listeners = new Set<PolicyListener>();

  private constructor(
    private readonly watched: WatchedFile<CompiledPolicy>,
  ) {}

  /** Loads the file and starts watching it. Rejects with ConfigError if it is broken: there is nothing older to keep. */
  static async open(file: string, log: Logger, options: PolicyStoreOptions = {}): Promise<PolicyStore> {
    let store: PolicyStore | undefined;
    const watched = await WatchedFile.open(
      file,
      async (f) => compilePolicy(await readPolicyFile(f)),
      {
        replaced: (policy, reason) => {
          log.info({ policyFile: file, reason, roles: policy.roleCount, bindings: policy.bindingCount }, 'policy reloaded');
          store?.notify(policy, log);
        },
        rejected: (e, reason) => {
          const problems = e instanceof ConfigError ? e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) : [String(e)];
          log.warn({ policyFile: file, reason, problems }, 'policy file rejected; keeping the previous policy');
        },
      },
      options,
    );
    store = new PolicyStore(watched);
    log.info({ policyFile: file, roles: watched.value.roleCount, bindings: watched.value.bindingCount }, 'policy loaded');
    return store;
  }

  get file(): string {
    return this.watched.file;
  }

  get current(): CompiledPolicy {
    return this.watched.value;
  }

  /** Calls `fn` with each new policy once it is in use; returns a function that unregisters it. */
  onChange(fn: PolicyListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stop(): void {
    this.watched.stop();
  }

  /** Re-reads the file; resolves true if the new policy is in use, false if the old one was kept. */
  reload(reason = 'reload requested'): Promise<boolean> {
    return this.watched.reload(reason);
  }

  private notify(policy: CompiledPolicy, log: Logger): void {
    for (const fn of this.listeners) {
      // One failing listener must not keep the others on the old policy.
      try {
        fn(policy);
      } catch (e) {
        log.error({ policyFile: this.file, err: (e as Error).message }, 'policy change listener failed');
      }
    }
  }
}

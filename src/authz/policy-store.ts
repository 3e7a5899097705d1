import { ConfigError } from '../config/load.js';
import { WatchedFile, type WatchedFileOptions } from '../config/watched-file.js';
import type { Logger } from '../observe/logger.js';
import { type CompiledPolicy, compilePolicy } from './compiled-policy.js';
import { readPolicyFile } from './policy-file.js';

export interface PolicyStoreOptions extends WatchedFileOptions {
  /** Told of every reload after the first load: whether the new policy is in use or the file was refused. */
  reloaded?: (outcome: 'success' | 'failure') => void;
}

export type PolicyListener = (policy: CompiledPolicy) => void;

/** The policy in use: what it compiled to, and which file content it came from. */
interface LoadedPolicy {
  policy: CompiledPolicy;
  /** SHA-256 of the file's bytes, hex: tells operators which version every proxy runs. */
  hash: string;
  loadedAt: Date;
}

/** What the admin status and the metrics say about the policy in use. */
export interface PolicyStatus {
  file: string;
  hash: string;
  loadedAt: Date;
  roles: number;
  bindings: number;
}

async function loadPolicy(file: string): Promise<LoadedPolicy> {
  const { policy, sha256 } = await readPolicyFile(file);
  return { policy: compilePolicy(policy), hash: sha256, loadedAt: new Date() };
}

/**
 * The policy from `authorization.policyFile`, reloaded when the file changes and on reload()
 * (SIGHUP). A file that fails to load leaves the current policy in place, with a warning naming
 * each problem; listeners hear of every policy that replaces the current one, so sessions can
 * re-derive their grants and drop cached decisions.
 */
export class PolicyStore {
  private readonly listeners = new Set<PolicyListener>();

  private constructor(
    private readonly watched: WatchedFile<LoadedPolicy>,
  ) {}

  /** Loads the file and starts watching it. Rejects with ConfigError if it is broken: there is nothing older to keep. */
  static async open(file: string, log: Logger, options: PolicyStoreOptions = {}): Promise<PolicyStore> {
    let store: PolicyStore | undefined;
    const watched = await WatchedFile.open(
      file,
      loadPolicy,
      {
        replaced: ({ policy, hash }, reason) => {
          log.info({ policyFile: file, reason, roles: policy.roleCount, bindings: policy.bindingCount, hash }, 'policy reloaded');
          options.reloaded?.('success');
          store?.notify(policy, log);
        },
        rejected: (e, reason) => {
          const problems = e instanceof ConfigError ? e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) : [String(e)];
          log.warn({ policyFile: file, reason, problems }, 'policy file rejected; keeping the previous policy');
          options.reloaded?.('failure');
        },
      },
      options,
    );
    store = new PolicyStore(watched);
    const { policy, hash } = watched.value;
    log.info({ policyFile: file, roles: policy.roleCount, bindings: policy.bindingCount, hash }, 'policy loaded');
    return store;
  }

  get file(): string {
    return this.watched.file;
  }

  get current(): CompiledPolicy {
    return this.watched.value.policy;
  }

  status(): PolicyStatus {
    const { policy, hash, loadedAt } = this.watched.value;
    return { file: this.file, hash, loadedAt, roles: policy.roleCount, bindings: policy.bindingCount };
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

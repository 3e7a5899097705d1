import { CompiledPolicy } from '../authz/compiled-policy.js';
import type { PolicyStore } from '../authz/policy-store.js';

const EVERYTHING = 'everything';

/**
 * The policy of a listener that records access but has none of its own: every principal may do
 * everything, so the request rules still name each resource and operation for the recorder.
 */
class EverythingAllowed extends CompiledPolicy {
  constructor() {
    super({
      roles: new Map([
        [
          EVERYTHING,
          (['topic', 'group', 'transactionalId', 'cluster'] as const).map((kind) => ({ kind, patterns: ['*'], operations: ['all'] as const })),
        ],
      ]),
      bindings: new Map(),
    });
  }

  override grantsFor(principal: string): ReturnType<CompiledPolicy['grantsFor']> {
    return super.grantsFor(principal, [EVERYTHING]);
  }
}

/** A policy source that never changes, for recording listeners without a policy. */
export const EVERYTHING_ALLOWED: Pick<PolicyStore, 'current' | 'onChange'> = {
  current: new EverythingAllowed(),
  onChange: () => () => {},
};

import { LRUCache } from 'lru-cache';
import type { PrincipalGrants } from './compiled-policy.js';
import type { Operation, ResourceKind } from './operations.js';

/** Longer names are decided every time: keeps a session's cache small whatever names a client sends (topic names stop at 249). */
const MAX_CACHED_NAME = 255;

/**
 * One session's recent decisions, in front of its grants. The grants and the decisions are
 * replaced together (clear), so a cached answer never outlives the grants it came from.
 */
export class DecisionCache {
  /** Made on the first decision: lru-cache allocates all its slots up front, and most idle connections never decide. */
  private decisions: LRUCache<string, boolean> | undefined;

  constructor(
    private current: PrincipalGrants,
    private readonly max = 256,
  ) {}

  get grants(): PrincipalGrants {
    return this.current;
  }

  allows(kind: ResourceKind, name: string, op: Operation): boolean {
    if (name.length > MAX_CACHED_NAME) return this.current.allows(kind, name, op);
    // The cluster is one resource whatever name the caller passes.
    const key = `${kind}\0${op}\0${kind === 'cluster' ? '' : name}`;
    this.decisions ??= new LRUCache({ max: this.max });
    let allowed = this.decisions.get(key);
    if (allowed === undefined) {
      allowed = this.current.allows(kind, name, op);
      this.decisions.set(key, allowed);
    }
    return allowed;
  }

  /** Forgets every decision and decides with `grants` from now on: after a policy reload or a re-authentication. */
  clear(grants: PrincipalGrants): void {
    this.current = grants;
    this.decisions?.clear();
  }
}

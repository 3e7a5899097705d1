import type { Operation, ResourceKind } from '../authz/operations.js';

/** One resource and operation an identity used: when first and last, and how many checks named it. */
export interface RecordedUse {
  kind: ResourceKind;
  name: string;
  operation: Operation;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

/**
 * Who used the resources. On authenticated listeners an identity is a principal (the addresses
 * and client ids it came from are kept beside it); on unauthenticated ones (principal ANONYMOUS)
 * it is one client address and client id.
 */
export interface RecordedIdentity {
  listener: string;
  principal: string;
  authenticated: boolean;
  addresses: string[];
  clientIds: string[];
  firstSeen: number;
  lastSeen: number;
  uses: RecordedUse[];
}

/** What a recording file holds (times in milliseconds since the epoch). */
export interface Recording {
  version: 1;
  identities: RecordedIdentity[];
  /** Uses and identities left out because a cap was reached. */
  dropped: number;
  /**
   * In a file written by `access compact`: the files it merged. Until they are deleted, readers
   * skip them, so a reading between the two steps does not count them twice.
   */
  replaces?: string[];
}

/** The key identities of all files are merged by. */
export function identityKey(i: Pick<RecordedIdentity, 'listener' | 'principal' | 'authenticated' | 'addresses' | 'clientIds'>): string {
  // JSON: no name can pass for a separator.
  return i.authenticated ? JSON.stringify([i.listener, i.principal]) : JSON.stringify([i.listener, i.principal, i.addresses[0] ?? '', i.clientIds[0] ?? '']);
}

export function useKey(u: Pick<RecordedUse, 'kind' | 'name' | 'operation'>): string {
  return `${u.kind}\0${u.operation}\0${u.name}`;
}

/** One recording made of several (files of several workers, instances and restarts): counts add up, times widen. */
export function mergeRecordings(recordings: readonly Recording[]): Recording {
  const identities = new Map<string, { identity: RecordedIdentity; uses: Map<string, RecordedUse> }>();
  let dropped = 0;
  for (const recording of recordings) {
    dropped += recording.dropped;
    for (const identity of recording.identities) {
      const key = identityKey(identity);
      let merged = identities.get(key);
      if (!merged) {
        merged = { identity: { ...identity, addresses: [], clientIds: [], uses: [] }, uses: new Map() };
        identities.set(key, merged);
      }
      const into = merged.identity;
      into.firstSeen = Math.min(into.firstSeen, identity.firstSeen);
      into.lastSeen = Math.max(into.lastSeen, identity.lastSeen);
      for (const a of identity.addresses) if (!into.addresses.includes(a)) into.addresses.push(a);
      for (const c of identity.clientIds) if (!into.clientIds.includes(c)) into.clientIds.push(c);
      for (const use of identity.uses) {
        const k = useKey(use);
        const seen = merged.uses.get(k);
        if (!seen) merged.uses.set(k, { ...use });
        else {
          seen.firstSeen = Math.min(seen.firstSeen, use.firstSeen);
          seen.lastSeen = Math.max(seen.lastSeen, use.lastSeen);
          seen.count += use.count;
        }
      }
    }
  }
  return {
    version: 1,
    identities: [...identities.values()].map(({ identity, uses }) => ({ ...identity, uses: [...uses.values()] })),
    dropped,
  };
}

import { Document, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { type Operation, type ResourceKind, impliedOperations } from '../authz/operations.js';
import type { RecordedIdentity, RecordedUse, Recording } from './recording.js';

/** Unauthenticated clients have no principal yet: their roles are named after their client id or their address. */
export type GroupBy = 'client-id' | 'address';

/** The policy file's key for each resource kind. */
const FILE_KEYS = { topic: 'topics', group: 'groups', transactionalId: 'transactionalIds', cluster: 'cluster' } as const;
const KIND_ORDER: readonly ResourceKind[] = ['topic', 'group', 'transactionalId', 'cluster'];
/** Characters that end a name's prefix: names sharing everything up to one of them share a prefix grant. */
const SEPARATORS = /[-._]/;

interface Holder {
  /** The role's name, and the principal it is bound to. */
  name: string;
  /** What the binding's comment says about it. */
  origin: string;
  uses: RecordedUse[];
}

interface SuggestedGrant {
  kind: ResourceKind;
  patterns: string[];
  operations: Operation[];
  comment: string;
}

/** Who gets a role: a principal, or on unauthenticated listeners the client id (or address) the client will keep. */
function holdersOf(recording: Recording, groupBy: GroupBy): Holder[] {
  const holders = new Map<string, Holder>();
  for (const identity of recording.identities) {
    const name = principalFor(identity, groupBy);
    let holder = holders.get(name);
    if (!holder) {
      holder = { name, origin: identity.authenticated ? `principal on ${identity.listener}` : `${groupBy} on plaintext listener ${identity.listener}: bind the principal it will authenticate as`, uses: [] };
      holders.set(name, holder);
    }
    holder.uses.push(...identity.uses);
  }
  return [...holders.values()].filter((h) => h.uses.length > 0).sort((a, b) => a.name.localeCompare(b.name));
}

/** The principal a suggested role is bound to: the recorded one, or the client id (or address) of an unauthenticated client. */
export function principalFor(identity: RecordedIdentity, groupBy: GroupBy): string {
  if (identity.authenticated) return identity.principal;
  const value = groupBy === 'address' ? identity.addresses[0] : identity.clientIds[0];
  return value || `no-${groupBy}`;
}

/** The operations to grant for one name: what was used, less what another of them implies (read implies describe). */
function minimalOperations(kind: ResourceKind, used: Set<Operation>): Operation[] {
  return [...used].filter((op) => ![...used].some((other) => other !== op && impliedOperations(kind, other).includes(op))).sort();
}

/** Everything up to and including the last separator, or undefined for a name without one. */
function stemOf(name: string): string | undefined {
  for (let i = name.length - 2; i >= 0; i--) if (SEPARATORS.test(name[i])) return name.slice(0, i + 1);
  return undefined;
}

/** Names sharing a stem become one `stem*` pattern when there are at least two of them; the others stay exact. */
function patternsFor(names: string[]): { pattern: string; names: string[] }[] {
  const byStem = new Map<string, string[]>();
  const exact: string[] = [];
  for (const name of names) {
    const stem = stemOf(name);
    if (stem === undefined) exact.push(name);
    else byStem.set(stem, [...(byStem.get(stem) ?? []), name]);
  }
  const result = exact.map((name) => ({ pattern: name, names: [name] }));
  for (const [stem, grouped] of byStem) {
    if (grouped.length > 1) result.push({ pattern: `${stem}*`, names: grouped });
    else result.push({ pattern: grouped[0], names: grouped });
  }
  return result.sort((a, b) => a.pattern.localeCompare(b.pattern));
}

function describeUse(uses: RecordedUse[]): string {
  const count = uses.reduce((n, u) => n + u.count, 0);
  const last = new Date(Math.max(...uses.map((u) => u.lastSeen))).toISOString();
  return `${count}x, last ${last}`;
}

function grantsFor(uses: RecordedUse[]): SuggestedGrant[] {
  const grants: SuggestedGrant[] = [];
  for (const kind of KIND_ORDER) {
    const byName = new Map<string, RecordedUse[]>();
    for (const use of uses) if (use.kind === kind) byName.set(use.name, [...(byName.get(use.name) ?? []), use]);
    // Names used with the same operations can share a grant.
    const byOperations = new Map<string, { operations: Operation[]; names: string[] }>();
    for (const [name, nameUses] of byName) {
      const operations = minimalOperations(kind, new Set(nameUses.map((u) => u.operation)));
      const key = operations.join(',');
      const group = byOperations.get(key) ?? { operations, names: [] };
      group.names.push(name);
      byOperations.set(key, group);
    }
    for (const { operations, names } of [...byOperations.values()].sort((a, b) => a.operations.join().localeCompare(b.operations.join()))) {
      if (kind === 'cluster') {
        grants.push({ kind, patterns: [], operations, comment: ` covers: ${operations.join(', ')} on the cluster (${describeUse(byName.get(names[0])!)})` });
        continue;
      }
      for (const { pattern, names: covered } of patternsFor(names.sort())) {
        const detail = covered.map((n) => `${n} (${describeUse(byName.get(n)!)})`).join('; ');
        grants.push({ kind, patterns: [pattern], operations, comment: ` covers: ${operations.join(', ')} on ${FILE_KEYS[kind]} ${detail}` });
      }
    }
  }
  return grants;
}

/**
 * A policy (the format readPolicyFile reads) allowing what `recording` holds: a role per
 * principal (or per client id or address on unauthenticated listeners) bound to it, names
 * sharing a prefix granted as `prefix*`, never `*`, and each grant commented with the uses it covers.
 */
export function suggestPolicy(recording: Recording, groupBy: GroupBy = 'client-id'): string {
  const holders = holdersOf(recording, groupBy);
  const roles: Record<string, SuggestedGrant[]> = {};
  for (const holder of holders) roles[holder.name] = grantsFor(holder.uses);
  // Operations lists are shared between grants: written out each time, as a reader expects, not as YAML aliases.
  const doc = new Document({
    roles: Object.fromEntries(
      Object.entries(roles).map(([name, grants]) => [
        name,
        grants.map((g) => (g.kind === 'cluster' ? { cluster: true, operations: g.operations } : { [FILE_KEYS[g.kind]]: g.patterns, operations: g.operations })),
      ]),
    ),
    bindings: Object.fromEntries(holders.map((h) => [h.name, [h.name]])),
  }, { aliasDuplicateObjects: false });
  doc.commentBefore = ' Suggested by kafka-auth-proxy policy suggest from an access recording: review before enforcing.';
  const roleNodes = doc.get('roles') as YAMLMap<Scalar<string>, YAMLSeq>;
  for (const pair of roleNodes.items) pair.value!.items.forEach((item, i) => ((item as YAMLMap).commentBefore = roles[pair.key.value][i].comment));
  const bindingNodes = doc.get('bindings') as YAMLMap<Scalar<string>, unknown>;
  bindingNodes.items.forEach((pair: Pair<Scalar<string>, unknown>, i) => (pair.key.commentBefore = ` ${holders[i].origin}`));
  return doc.toString({ lineWidth: 0 });
}

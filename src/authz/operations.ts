/** The operations a policy grants, as Kafka names them (its "ClusterAction" is not exposed). */
export const OPERATIONS = [
  'read',
  'write',
  'describe',
  'create',
  'delete',
  'alter',
  'describe-configs',
  'alter-configs',
  'idempotent-write',
  'all',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export type ResourceKind = 'topic' | 'group' | 'transactionalId' | 'cluster';

/** Kafka's resource/operation matrix: an operation outside its kind's row can never be checked, so granting it is a mistake. */
export const KIND_OPERATIONS: Readonly<Record<ResourceKind, readonly Operation[]>> = {
  topic: ['read', 'write', 'describe', 'create', 'delete', 'alter', 'describe-configs', 'alter-configs', 'all'],
  group: ['read', 'describe', 'delete', 'all'],
  transactionalId: ['write', 'describe', 'all'],
  cluster: ['create', 'alter', 'describe', 'describe-configs', 'alter-configs', 'idempotent-write', 'all'],
};

/** What else an operation grants, as in Kafka's authorizer (before narrowing to the kind's row). */
const IMPLIED: Partial<Record<Operation, readonly Operation[]>> = {
  read: ['describe'],
  write: ['describe'],
  delete: ['describe'],
  alter: ['describe'],
  'alter-configs': ['describe-configs'],
};

/** The operations a grant of `op` on `kind` allows, itself included. */
export function impliedOperations(kind: ResourceKind, op: Operation): Operation[] {
  const row = KIND_OPERATIONS[kind];
  if (op === 'all') return [...row];
  return [op, ...(IMPLIED[op] ?? [])].filter((o) => row.includes(o));
}

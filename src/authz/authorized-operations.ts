import type { PrincipalGrants } from './compiled-policy.js';
import { KIND_OPERATIONS, type Operation, type ResourceKind } from './operations.js';

/** Kafka's AclOperation codes, as bits in the authorizedOperations fields (KIP-430). */
const ACL_OPERATION_CODE: Readonly<Record<Exclude<Operation, 'all'>, number>> = {
  read: 3,
  write: 4,
  create: 5,
  delete: 6,
  alter: 7,
  describe: 8,
  'describe-configs': 10,
  'alter-configs': 11,
  'idempotent-write': 12,
};

/** The field's value when the client did not ask for it. */
export const NOT_REQUESTED = -2147483648;

/**
 * What the principal may do with one resource, as the bit set a broker reports when asked.
 * Brokers behind the proxy have no authorizer and would report everything; the policy is what
 * actually applies. Without Describe it is none at all, as Kafka reports (AuthHelper).
 */
export function authorizedOperations(grants: PrincipalGrants, kind: ResourceKind, name: string): number {
  if (!grants.allows(kind, name, 'describe')) return 0;
  let bits = 0;
  for (const op of KIND_OPERATIONS[kind]) {
    if (op !== 'all' && grants.allows(kind, name, op)) bits |= 1 << ACL_OPERATION_CODE[op];
  }
  return bits;
}

import { randomBytes } from 'node:crypto';
import type { DevClient } from '../../src/dev-issuer/issuer.js';

export const TOPICS = { orders: 'orders', payments: 'payments' } as const;
export const GROUP = 'orders-demo';
export const BILLING = 'svc-billing';
export const ANALYTICS = 'svc-analytics';

/**
 * The demo policy. svc-billing gets its role from a binding (its token carries no roles);
 * svc-analytics gets its role from the token's roles claim: the two ways a principal gets roles.
 */
export const POLICY_YAML = `# kafka-auth-proxy demo policy: default deny, roles are lists of grants.
roles:
  orders-writer:
    - { topics: ["${TOPICS.orders}"], operations: [write] }
  orders-reader:
    - { topics: ["${TOPICS.orders}"], operations: [read] }
    - { groups: ["orders-*"], operations: [read] }
bindings:
  "${BILLING}": [orders-writer]
`;

/** One line per principal for the console: who may do what, and where the role comes from. */
export const POLICY_SUMMARY = [
  `${BILLING.padEnd(14)} role orders-writer (from a binding): write topic "${TOPICS.orders}"`,
  `${ANALYTICS.padEnd(14)} role orders-reader (from its token): read topic "${TOPICS.orders}", read groups "orders-*"`,
];

/** Client-credentials clients of the dev issuer; secrets are fresh per run and never printed. */
export function demoClients(): Record<string, DevClient> {
  const secret = () => randomBytes(18).toString('base64url');
  return {
    [BILLING]: { secret: secret(), subject: BILLING, roles: [] },
    [ANALYTICS]: { secret: secret(), subject: ANALYTICS, roles: ['orders-reader'] },
  };
}

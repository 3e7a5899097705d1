import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { OPERATIONS } from '../../src/authz/operations.js';
import { parsePolicy } from '../../src/authz/policy-file.js';
import { PrefixSet } from '../../src/authz/prefix-set.js';

const policy = compilePolicy(
  parsePolicy(
    `
roles:
  orders-writer:
    - { topics: ["orders"], operations: [write] }
  orders-reader:
    - { topics: ["orders", "orders-eu-*"], operations: [read] }
    - { groups: ["orders-*"], operations: [read] }
  txn-producer:
    - { transactionalIds: ["orders-tx-*"], operations: [write] }
  topic-admin:
    - { topics: ["*"], operations: [delete, alter-configs] }
  group-admin:
    - { groups: ["*"], operations: [all] }
  admin:
    - { cluster: true, operations: [all] }
    - { topics: ["*"], operations: [all] }
  idempotent:
    - { cluster: true, operations: [idempotent-write] }
bindings:
  svc-billing: [orders-writer]
  svc-audit: [orders-reader, orders-reader]
`,
    'policy.yaml',
  ),
);

describe('compiled policy', () => {
  it('never hands one principal the cached grants of another, whatever characters their names hold', () => {
    const fresh = compilePolicy(parsePolicy('roles:\n  admin:\n    - { topics: ["*"], operations: [all] }\n  team-a:\n    - { topics: ["a-*"], operations: [read] }\n', 'policy.yaml'));
    expect(fresh.grantsFor('carol', ['admin', 'team-a']).allows('topic', 'payroll', 'write')).toBe(true);
    const alias = fresh.grantsFor('carol\u0000admin', ['team-a']);
    expect(alias.allows('topic', 'payroll', 'write')).toBe(false);
    expect(alias.roles).toEqual(['team-a']);
    expect(fresh.grantsFor('carol', ['admin\u0000team-a']).allows('topic', 'payroll', 'write')).toBe(false);
  });

  it('matches exact names, prefixes and the wildcard', () => {
    const reader = policy.grantsFor('someone', ['orders-reader']);
    expect(reader.allows('topic', 'orders', 'read')).toBe(true);
    expect(reader.allows('topic', 'orders2', 'read')).toBe(false);
    expect(reader.allows('topic', 'order', 'read')).toBe(false);
    expect(reader.allows('topic', 'orders-eu-1', 'read')).toBe(true);
    expect(reader.allows('topic', 'orders-eu-', 'read')).toBe(true);
    expect(reader.allows('topic', 'orders-eu', 'read')).toBe(false);
    expect(reader.allows('topic', 'orders-us-1', 'read')).toBe(false);

    const admin = policy.grantsFor('root', ['admin']);
    for (const name of ['orders', '', 'anything.at_all-1']) expect(admin.allows('topic', name, 'write')).toBe(true);
    expect(admin.allows('group', 'orders', 'read')).toBe(false);
  });

  it("applies Kafka's implications, within each kind", () => {
    const writer = policy.grantsFor('svc-billing', []);
    expect(writer.allows('topic', 'orders', 'describe')).toBe(true);
    expect(writer.allows('topic', 'orders', 'read')).toBe(false);
    expect(writer.allows('topic', 'orders', 'describe-configs')).toBe(false);

    const reader = policy.grantsFor('p', ['orders-reader']);
    expect(reader.allows('group', 'orders-app', 'describe')).toBe(true);
    expect(reader.allows('group', 'orders-app', 'delete')).toBe(false);

    const txn = policy.grantsFor('p', ['txn-producer']);
    expect(txn.allows('transactionalId', 'orders-tx-1', 'describe')).toBe(true);
    expect(txn.allows('topic', 'orders-tx-1', 'describe')).toBe(false);

    const topicAdmin = policy.grantsFor('p', ['topic-admin']);
    expect(topicAdmin.allows('topic', 'x', 'describe')).toBe(true); // from delete
    expect(topicAdmin.allows('topic', 'x', 'describe-configs')).toBe(true); // from alter-configs
    expect(topicAdmin.allows('topic', 'x', 'alter')).toBe(false);

    const groupAdmin = policy.grantsFor('p', ['group-admin']);
    for (const op of ['read', 'describe', 'delete', 'all'] as const) expect(groupAdmin.allows('group', 'g', op)).toBe(true);
    expect(groupAdmin.allows('group', 'g', 'write')).toBe(false);

    const admin = policy.grantsFor('root', ['admin']);
    for (const op of ['create', 'alter', 'describe', 'describe-configs', 'alter-configs', 'idempotent-write', 'all'] as const) {
      expect(admin.allows('cluster', '', op)).toBe(true);
    }
    expect(admin.allows('cluster', 'kafka-cluster', 'read')).toBe(false);
  });

  it('ignores the name for the cluster', () => {
    const grants = policy.grantsFor('p', ['idempotent']);
    expect(grants.allows('cluster', '', 'idempotent-write')).toBe(true);
    expect(grants.allows('cluster', 'kafka-cluster', 'idempotent-write')).toBe(true);
    expect(grants.allows('cluster', '', 'describe')).toBe(false);
  });

  it('unites the roles from the credential and from bindings, ignoring (and listing) unknown ones', () => {
    const grants = policy.grantsFor('svc-billing', ['orders-reader', 'no-such-role', 'orders-writer', 'no-such-role']);
    expect(grants.principal).toBe('svc-billing');
    expect(grants.roles).toEqual(['orders-writer', 'orders-reader']);
    expect(grants.ignoredRoles).toEqual(['no-such-role']);
    expect(grants.allows('topic', 'orders', 'write')).toBe(true);
    expect(grants.allows('topic', 'orders', 'read')).toBe(true);
    expect(grants.allows('topic', 'orders-eu-1', 'read')).toBe(true);
    expect(grants.allows('topic', 'orders-eu-1', 'write')).toBe(false);

    expect(policy.grantsFor('svc-audit', []).roles).toEqual(['orders-reader']);
    // Bindings belong to their principal only.
    expect(policy.grantsFor('svc-billing2', []).allows('topic', 'orders', 'write')).toBe(false);
  });

  it('denies by default', () => {
    const nobody = policy.grantsFor('nobody', ['toString', '__proto__', 'constructor']);
    expect(nobody.roles).toEqual([]);
    for (const kind of ['topic', 'group', 'transactionalId', 'cluster'] as const) {
      for (const op of OPERATIONS) expect(nobody.allows(kind, 'orders', op)).toBe(false);
    }
    expect(compilePolicy(parsePolicy('roles: {}', 'p.yaml')).grantsFor('svc-billing', []).allows('topic', 'orders', 'describe')).toBe(false);
  });

  it('allowsAny tells whether an operation is granted on any name of a kind', () => {
    const writer = policy.grantsFor('svc-billing', []);
    expect(writer.allowsAny('topic', 'write')).toBe(true);
    expect(writer.allowsAny('topic', 'read')).toBe(false);
    expect(writer.allowsAny('cluster', 'idempotent-write')).toBe(false);
  });

  it('shares one compiled grant set among connections of the same principal and roles', () => {
    const first = policy.grantsFor('svc-billing', ['orders-reader']);
    expect(policy.grantsFor('svc-billing', ['orders-reader'])).toBe(first);
    expect(policy.grantsFor('svc-billing', [])).not.toBe(first);
    expect(policy.grantsFor('svc-billing', []).allows('topic', 'orders', 'read')).toBe(false);
  });

  it('counts roles and bindings', () => {
    expect([policy.roleCount, policy.bindingCount]).toEqual([7, 2]);
  });
});

describe('PrefixSet', () => {
  it('agrees with a startsWith scan, with few prefixes and with many (trie)', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const word = (max: number) => Array.from({ length: 1 + random(max) }, () => 'ab.-é'[random(5)]).join('');
    for (const count of [1, 3, 8, 9, 40, 500]) {
      const prefixes = Array.from({ length: count }, () => word(6));
      const set = new PrefixSet(prefixes);
      for (let i = 0; i < 500; i++) {
        const name = random(4) ? word(9) : prefixes[random(count)];
        expect(set.matches(name), `${JSON.stringify(name)} against ${count} prefixes`).toBe(prefixes.some((p) => name.startsWith(p)));
      }
      expect(set.matches('')).toBe(false);
    }
  });

  it('keeps a prefix covered by a shorter one from hiding names', () => {
    const prefixes = ['orders-eu-', 'orders-', 'a', 'ab', 'abc', 'b', 'c', 'd', 'e', 'f', 'g'];
    const set = new PrefixSet(prefixes);
    expect(set.matches('orders-us')).toBe(true);
    expect(set.matches('orders')).toBe(false);
    expect(set.matches('abx')).toBe(true);
    expect(set.matches('h')).toBe(false);
  });
});

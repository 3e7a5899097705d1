import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPolicyFile } from '../../src/authz/check-policy.js';
import { parsePolicy, readPolicyFile } from '../../src/authz/policy-file.js';
import { ConfigError } from '../../src/config/load.js';

const DESIGN_EXAMPLE = `
roles:
  orders-writer:
    - { topics: ["orders"], operations: [write] }
  orders-reader:
    - { topics: ["orders"], operations: [read] }
    - { groups: ["orders-*"], operations: [read] }
  txn-producer:
    - { transactionalIds: ["orders-tx-*"], operations: [write, describe] }
  admin:
    - { cluster: true, operations: [all] }
    - { topics: ["*"], operations: [all] }
bindings:
  "svc-billing": [orders-writer]
`;

function problemsOf(text: string): string[] {
  try {
    parsePolicy(text, 'policy.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => {
      expect(p.file).toBe('policy.yaml');
      return `${p.path}: ${p.message}`;
    });
  }
  throw new Error('expected the policy to be refused');
}

describe('policy file', () => {
  it('reads the example of the design', () => {
    const policy = parsePolicy(DESIGN_EXAMPLE, 'policy.yaml');
    expect(Object.fromEntries(policy.roles)).toEqual({
      'orders-writer': [{ kind: 'topic', patterns: ['orders'], operations: ['write'] }],
      'orders-reader': [
        { kind: 'topic', patterns: ['orders'], operations: ['read'] },
        { kind: 'group', patterns: ['orders-*'], operations: ['read'] },
      ],
      'txn-producer': [{ kind: 'transactionalId', patterns: ['orders-tx-*'], operations: ['write', 'describe'] }],
      admin: [
        { kind: 'cluster', patterns: [], operations: ['all'] },
        { kind: 'topic', patterns: ['*'], operations: ['all'] },
      ],
    });
    expect(Object.fromEntries(policy.bindings)).toEqual({ 'svc-billing': ['orders-writer'] });
  });

  it('accepts JSON, and no bindings', () => {
    const policy = parsePolicy('{"roles": {"r": [{"groups": ["g"], "operations": ["read", "delete"]}]}}', 'policy.json');
    expect(policy.roles.get('r')).toEqual([{ kind: 'group', patterns: ['g'], operations: ['read', 'delete'] }]);
    expect(policy.bindings.size).toBe(0);
  });

  it('reports every problem at once, each with its path', () => {
    expect(
      problemsOf(`
roles:
  orders-writer:
    - { topics: ["orders", "a*b", "**", ""], operations: [write, wirte] }
    - { topics: ["x"], groups: ["y"], operations: [] }
    - { operations: [read], partitions: [0] }
    - { cluster: yes, operations: [read] }
    - { groups: [], operations: read }
    - "write everything"
  broken: 3
bindings:
  svc-billing: [orders-writer, orders-wrtier, broken]
  svc-empty: orders-writer
`),
    ).toEqual([
      'roles.orders-writer[0].topics[1]: "*" may only end a pattern ("orders-*") or stand alone ("*"), got "a*b"',
      'roles.orders-writer[0].topics[2]: "*" may only end a pattern ("orders-*") or stand alone ("*"), got "**"',
      'roles.orders-writer[0].topics[3]: a name or pattern cannot be empty',
      'roles.orders-writer[0].operations[1]: unknown operation "wirte"',
      'roles.orders-writer[1].operations: list at least one operation',
      'roles.orders-writer[1]: a grant names exactly one resource kind, this one names topics and groups',
      'roles.orders-writer[2]: Unrecognized key: "partitions"',
      'roles.orders-writer[2]: a grant names one resource kind: topics, groups, transactionalIds or cluster: true',
      'roles.orders-writer[3].cluster: a cluster grant is written "cluster: true"',
      'roles.orders-writer[3].operations[0]: operation "read" does not apply to cluster (allowed: create, alter, describe, describe-configs, alter-configs, idempotent-write, all)',
      'roles.orders-writer[4].groups: list at least one name or pattern',
      'roles.orders-writer[4].operations: Invalid input: expected array, received string',
      'roles.orders-writer[5]: Invalid input: expected object, received string',
      'roles.broken: Invalid input: expected array, received number',
      'bindings.svc-empty: Invalid input: expected array, received string',
      'bindings.svc-billing[1]: unknown role "orders-wrtier"',
    ]);
  });

  it("follows Kafka's resource/operation matrix", () => {
    const refused = (kind: string, op: string) => problemsOf(`roles:\n  r:\n    - { ${kind}, operations: [${op}] }\n`);
    expect(refused('topics: [t]', 'idempotent-write')).toEqual([
      'roles.r[0].operations[0]: operation "idempotent-write" does not apply to topics (allowed: read, write, describe, create, delete, alter, describe-configs, alter-configs, all)',
    ]);
    expect(refused('groups: [g]', 'write')).toEqual(['roles.r[0].operations[0]: operation "write" does not apply to groups (allowed: read, describe, delete, all)']);
    expect(refused('transactionalIds: [t]', 'read')).toEqual(['roles.r[0].operations[0]: operation "read" does not apply to transactionalIds (allowed: write, describe, all)']);
    expect(refused('cluster: true', 'cluster-action')).toEqual(['roles.r[0].operations[0]: unknown operation "cluster-action"']);
    expect(refused('cluster: true', 'delete')[0]).toMatch(/^roles.r\[0\].operations\[0\]: operation "delete" does not apply to cluster/);
  });

  it('refuses bad names, bad top-level keys, YAML errors and an empty file', () => {
    expect(problemsOf('roles:\n  "": []\nbindings:\n  "": []\n')).toEqual([
      'roles.: role names cannot be empty',
      'bindings.: principals cannot be empty',
    ]);
    expect(problemsOf('roles: {}\nbinding: {}\n')).toEqual([': Unrecognized key: "binding"']);
    expect(problemsOf('bindings: {}\n')).toEqual(['roles: Invalid input: expected record, received undefined']);
    expect(problemsOf('roles:\n  r: []\n  r: []\n')).toEqual([': Map keys must be unique at line 3, column 3']);
    expect(problemsOf('')).toEqual([': the file is empty: a policy needs at least "roles:"']);
  });
});

describe('reading and checking policy files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'authz-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('readPolicyFile reads the file, and names it when it cannot', async () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(file, DESIGN_EXAMPLE);
    const read = await readPolicyFile(file);
    expect(read.policy.roles.size).toBe(4);
    expect(read.sha256).toBe(createHash('sha256').update(DESIGN_EXAMPLE).digest('hex'));
    await expect(readPolicyFile(join(dir, 'missing.yaml'))).rejects.toThrow(`${join(dir, 'missing.yaml')}: cannot read: ENOENT`);
  });

  it('checkPolicyFile lists the problems of a file for the check command', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, DESIGN_EXAMPLE);
    expect(checkPolicyFile(good)).toEqual([]);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, DESIGN_EXAMPLE.replace('operations: [write] }', 'operations: [wirte] }'));
    expect(checkPolicyFile(bad)).toEqual([{ file: bad, path: 'roles.orders-writer[0].operations[0]', message: 'unknown operation "wirte"' }]);
    expect(checkPolicyFile(join(dir, 'missing.yaml'))).toEqual([{ file: join(dir, 'missing.yaml'), path: '', message: 'cannot read: ENOENT' }]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type YAMLMap, type YAMLSeq, parseDocument } from 'yaml';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { parsePolicy, readPolicyFile } from '../../src/authz/policy-file.js';
import type { Operation, ResourceKind } from '../../src/authz/operations.js';
import { formatReport, parseSince, reportRows } from '../../src/migration/access-report.js';
import { checkRecording, formatDenials } from '../../src/migration/check-recording.js';
import { migrationCommand } from '../../src/migration/cli.js';
import type { RecordedIdentity, Recording } from '../../src/migration/recording.js';
import { writeRecordingFile } from '../../src/migration/recording-files.js';
import { suggestPolicy } from '../../src/migration/suggest-policy.js';
import { formatMigrationStatus, migrationStatus } from '../../src/migration/migration-status.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function plaintextClient(clientId: string, address: string, uses: [ResourceKind, string, Operation][]): RecordedIdentity {
  return {
    listener: 'plain',
    principal: 'ANONYMOUS',
    authenticated: false,
    addresses: [address],
    clientIds: [clientId],
    firstSeen: T0,
    lastSeen: T0 + 1000,
    uses: uses.map(([kind, name, operation]) => ({ kind, name, operation, firstSeen: T0, lastSeen: T0 + 1000, count: 4 })),
  };
}

const RECORDING: Recording = {
  version: 1,
  dropped: 0,
  identities: [
    plaintextClient('debezium', '10.0.0.5', [
      ['topic', 'connect-offsets', 'write'],
      ['topic', 'connect-configs', 'write'],
      ['topic', 'connect-status', 'read'],
      ['topic', 'connect-status', 'write'],
      ['topic', 'connect-status', 'describe'],
      ['group', 'connect-inventory', 'read'],
      ['topic', 'dbserver1.inventory.customers', 'write'],
      ['topic', 'dbserver1.inventory.orders', 'write'],
      ['transactionalId', 'inventory-tx', 'write'],
      ['cluster', 'kafka-cluster', 'idempotent-write'],
    ]),
    plaintextClient('billing', '10.0.0.6', [
      ['topic', 'orders', 'read'],
      ['group', 'billing', 'read'],
    ]),
  ],
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migration-'));
  dirs.push(dir);
  return dir;
}

describe('policy suggest', () => {
  const text = suggestPolicy(RECORDING);
  const policy = parsePolicy(text, 'suggested.yaml');

  it('loads as a policy file and allows every recorded use', () => {
    expect(checkRecording(policy, RECORDING)).toEqual([]);
  });

  it('writes every grant out in full: no YAML anchors or aliases for operations lists grants share', () => {
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text.match(/operations:\n\s+- write/g)?.length).toBeGreaterThan(1);
  });

  it('groups names sharing a prefix, keeps the rest exact, never grants *', () => {
    const patterns = [...policy.roles.values()].flat().flatMap((g) => g.patterns);
    expect(patterns).toContain('connect-*');
    expect(patterns).toContain('dbserver1.inventory.*');
    expect(patterns).toContain('orders');
    expect(patterns).not.toContain('*');
    // A prefix grant covers only names used with the same operations: connect-status is also read.
    const debezium = policy.roles.get('debezium')!;
    expect(debezium.find((g) => g.patterns.includes('connect-status'))?.operations).toEqual(['read', 'write']);
  });

  it('includes the real consumer group and the transactional id, and binds each client id to its role', () => {
    const debezium = policy.roles.get('debezium')!;
    expect(debezium).toContainEqual({ kind: 'group', patterns: ['connect-inventory'], operations: ['read'] });
    expect(debezium).toContainEqual({ kind: 'transactionalId', patterns: ['inventory-tx'], operations: ['write'] });
    expect(debezium).toContainEqual({ kind: 'cluster', patterns: [], operations: ['idempotent-write'] });
    expect(policy.bindings.get('billing')).toEqual(['billing']);
  });

  it('says on every grant which recorded uses it covers', () => {
    expect(text).toMatch(/# covers: write on topics connect-configs \(4x, last 2026-12-01T10:00:01.000Z\); connect-offsets/);
    const lines = text.split('\n');
    const grantStarts = [...lines.entries()].filter(([, line]) => /^\s+- (topics|groups|transactionalIds|cluster):/.test(line));
    expect(grantStarts).toHaveLength([...policy.roles.values()].flat().length);
    for (const [i] of grantStarts) expect(lines[i - 1]).toMatch(/# covers: /);
  });

  it('with --group-by address, roles are bound to addresses', () => {
    expect([...parsePolicy(suggestPolicy(RECORDING, 'address'), 's.yaml').bindings.keys()]).toEqual(['10.0.0.5', '10.0.0.6']);
  });
});

describe('policy check', () => {
  it('lists per identity what a hand-edited policy would deny', () => {
    const edited = parseDocument(suggestPolicy(RECORDING));
    const billing = edited.getIn(['roles', 'billing']) as YAMLSeq<YAMLMap>;
    billing.items = billing.items.filter((grant) => !grant.has('groups'));
    const withoutGroup = parsePolicy(edited.toString(), 'edited.yaml');
    const denials = checkRecording(withoutGroup, RECORDING);
    expect(denials.map((d) => [d.principal, d.denied.map((u) => `${u.kind} ${u.name} ${u.operation}`)])).toEqual([['billing', ['group billing read']]]);
    expect(formatDenials(denials)).toContain('billing (listener plain) would be denied:\n  read group billing (4x');
  });
});

describe('access report', () => {
  const rows = reportRows(RECORDING, { listener: 'plain' });

  it('has a row per identity and use with addresses, client ids, first and last seen', () => {
    expect(rows).toHaveLength(12);
    expect(rows.find((r) => r.clientIds === 'billing' && r.resource === 'group')).toEqual({
      listener: 'plain',
      principal: 'ANONYMOUS',
      addresses: '10.0.0.6',
      clientIds: 'billing',
      resource: 'group',
      name: 'billing',
      operation: 'read',
      count: 4,
      firstSeen: '2026-12-01T10:00:00.000Z',
      lastSeen: '2026-12-01T10:00:01.000Z',
    });
    expect(reportRows(RECORDING, { listener: 'secure' })).toEqual([]);
    expect(reportRows(RECORDING, { since: T0 + 2000 })).toEqual([]);
  });

  it('prints as an aligned table, JSON and CSV', () => {
    const table = formatReport(rows, 'table').split('\n');
    expect(table[0]).toMatch(/^LISTENER\s+PRINCIPAL\s+ADDRESSES\s+CLIENTIDS\s+RESOURCE\s+NAME/);
    expect(table[1].indexOf('debezium')).toBe(table[0].indexOf('CLIENTIDS'));
    expect(JSON.parse(formatReport(rows, 'json'))).toEqual(rows);
    const billingGroup = rows.find((r) => r.clientIds === 'billing' && r.resource === 'group')!;
    const csv = formatReport([{ ...billingGroup, name: 'a,"b"' }], 'csv').split('\n');
    expect(csv[0]).toBe('listener,principal,addresses,clientIds,resource,name,operation,count,firstSeen,lastSeen');
    expect(csv[1]).toBe('plain,ANONYMOUS,10.0.0.6,billing,group,"a,""b""",read,4,2026-12-01T10:00:00.000Z,2026-12-01T10:00:01.000Z');
  });

  it('keeps what clients chose from acting on a terminal or a spreadsheet', () => {
    const billingGroup = rows.find((r) => r.clientIds === 'billing' && r.resource === 'group')!;
    const hostile = { ...billingGroup, clientIds: '=HYPERLINK("http://x")', name: 'g\u001b[31m\nred' };
    const csv = formatReport([hostile], 'csv').split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toContain(',"\'=HYPERLINK(""http://x"")",');
    expect(csv[1]).toContain(',g\\x1b[31m\\x0ared,');
    expect(formatReport([hostile], 'table')).not.toContain('\u001b');
  });

  it('reads --since as a duration or an ISO time', () => {
    expect(parseSince('2h', T0)).toBe(T0 - 7_200_000);
    expect(parseSince('2026-12-01T10:00:00Z')).toBe(T0);
    expect(() => parseSince('yesterday')).toThrow(/--since/);
  });
});

describe('the commands', () => {
  it('suggest writes a policy that check then finds complete; check exits 1 on what a policy denies', async () => {
    const dir = tempDir();
    await writeRecordingFile(join(dir, 'recording-h-1.json'), RECORDING);
    const out: string[] = [];
    const policyFile = join(dir, 'policy.yaml');
    expect(await migrationCommand(['policy', 'suggest', '--recording', dir, '--output', policyFile], (t) => out.push(t))).toBe(0);
    await readPolicyFile(policyFile);
    expect(await migrationCommand(['policy', 'check', '--policy', policyFile, '--recording', dir], (t) => out.push(t))).toBe(0);
    writeFileSync(policyFile, 'roles:\n  billing:\n    - { topics: ["orders"], operations: [read] }\nbindings:\n  billing: [billing]\n');
    expect(await migrationCommand(['policy', 'check', '--policy', policyFile, '--recording', dir], (t) => out.push(t))).toBe(1);
    expect(out.at(-1)).toContain('read group billing');
    expect(await migrationCommand(['access', 'report', '--recording', dir, '--format', 'csv'], (t) => out.push(t))).toBe(0);
    expect(out.at(-1)!.split('\n')).toHaveLength(14);
    await expect(migrationCommand(['access', 'report', '--recording', dir, '--format', 'xml'], () => {})).rejects.toThrow(/--format must be one of/);
  });
});

it('a suggested role grants the operations recorded, not more', () => {
  const grants = compilePolicy(parsePolicy(suggestPolicy(RECORDING), 's.yaml')).grantsFor('billing', []);
  expect(grants.allows('topic', 'orders', 'write')).toBe(false);
});

describe('migration status', () => {
  it('shows a plaintext client as moved once its client id authenticates, with its principal', () => {
    const moved: RecordedIdentity = { ...plaintextClient('billing', '10.0.0.6', []), listener: 'secure', principal: 'svc-billing', authenticated: true };
    const clients = migrationStatus({ ...RECORDING, identities: [...RECORDING.identities, moved] });
    expect(clients.map((c) => [c.clientId, c.address, c.moved, c.principals])).toEqual([
      ['billing', '10.0.0.6', true, ['svc-billing']],
      ['debezium', '10.0.0.5', false, []],
    ]);
    expect(formatMigrationStatus(clients)).toMatch(/billing\s+10\.0\.0\.6\s+2026-12-01T10:00:01.000Z\s+yes\s+svc-billing\n[^]*1 moved, 1 still on plaintext\n$/);
  });
});

import { FetchSessionMirror } from '../../src/authz/fetch-session-mirror.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { DenialLog } from '../../src/authz/denial-log.js';
import { parsePolicy } from '../../src/authz/policy-file.js';
import { SessionAccess } from '../../src/authz/session-access.js';
import { TOPIC_RULES } from '../../src/authz/api-rules/topic-apis.js';
import { EVERYTHING_ALLOWED } from '../../src/migration/everything-allowed.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultCreateTopicsRequest, defaultCreateTopicsRequestCreatableTopic } from '../../src/protocol/generated/messages/CreateTopicsRequest.js';
import { AccessRecorder, type RecordingRequester } from '../../src/migration/access-recorder.js';
import { readRecordingDir, writeRecordingFile, writeRecordingFileInSlices } from '../../src/migration/recording-files.js';
import { RecordingWriter } from '../../src/migration/recording-writer.js';
import { createLogger } from '../../src/observe/logger.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recording-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const plaintext = (clientAddress: string, clientId: string): RecordingRequester => ({ listener: 'plain', principal: 'ANONYMOUS', clientAddress, clientId });
const log = createLogger('error');

describe('access recorder', () => {
  it('records one identity per address and client id on unauthenticated listeners, whatever the port', () => {
    const recorder = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    recorder.identityOf(plaintext('10.0.0.1:5000', 'billing'))!.note('topic', 'orders', 'write');
    recorder.identityOf(plaintext('10.0.0.1:5001', 'billing'))!.note('topic', 'orders', 'write');
    recorder.identityOf(plaintext('10.0.0.2:5000', 'billing'))!.note('topic', 'orders', 'write');
    const { identities } = recorder.snapshot();
    expect(identities.map((i) => [i.addresses, i.clientIds, i.uses[0].count])).toEqual([
      [['10.0.0.1'], ['billing'], 2],
      [['10.0.0.2'], ['billing'], 1],
    ]);
  });

  it('keeps a client\'s absurdly long client id and names cut, so one request cannot hold megabytes', () => {
    const recorder = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    recorder.identityOf(plaintext('10.0.0.1:5000', 'c'.repeat(100_000)))!.note('group', 'g'.repeat(100_000), 'read');
    const [identity] = recorder.snapshot().identities;
    expect(identity.clientIds[0]).toBe(`${'c'.repeat(255)}... (100000 characters)`);
    expect(identity.uses[0].name.length).toBeLessThan(300);
  });

  it('keys authenticated identities by principal and keeps where they connect from', () => {
    const recorder = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    recorder.identityOf({ listener: 'secure', principal: 'svc-a', clientAddress: '::ffff:10.0.0.1:1', clientId: 'a1' })!.note('group', 'g', 'read');
    recorder.identityOf({ listener: 'secure', principal: 'svc-a', clientAddress: '10.0.0.9:2', clientId: 'a2' })!.note('group', 'g', 'read');
    const [identity] = recorder.snapshot().identities;
    expect(identity).toMatchObject({ principal: 'svc-a', authenticated: true, addresses: ['10.0.0.1', '10.0.0.9'], clientIds: ['a1', 'a2'] });
  });

  it('stops at its caps and counts what it dropped', () => {
    let dropped = 0;
    const recorder = new AccessRecorder({ maxIdentities: 1, maxEntriesPerIdentity: 2 }, { entryAdded: () => {}, dropped: () => dropped++, plaintextClient: () => {}, authenticatedClient: () => {} });
    const first = recorder.identityOf(plaintext('10.0.0.1:1', 'a'))!;
    for (const topic of ['t1', 't2', 't3', 't4']) first.note('topic', topic, 'read');
    first.note('topic', 't1', 'read');
    expect(recorder.identityOf(plaintext('10.0.0.2:1', 'b'))).toBeUndefined();
    const snapshot = recorder.snapshot();
    expect(snapshot.identities).toHaveLength(1);
    expect(snapshot.identities[0].uses.map((u) => [u.name, u.count])).toEqual([
      ['t1', 2],
      ['t2', 1],
    ]);
    expect(snapshot.dropped).toBe(3);
    expect(dropped).toBe(3);
  });

  it("hears every check of a session, allowed or denied, under the client id the session learns", () => {
    const recorder = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    const policy = compilePolicy(parsePolicy('roles:\n  app:\n    - { topics: ["orders"], operations: [write] }\n', 'p.yaml'));
    const access = new SessionAccess('enforce', { listener: 'plain', principal: 'ANONYMOUS', roles: ['app'], clientAddress: '10.0.0.1:9', clientId: null }, policy, new DenialLog(log, undefined));
    access.recordTo(recorder);
    access.clientId = 'billing';
    expect(access.check('topic', 'orders', 'write')).toBe(true);
    expect(access.check('topic', 'payments', 'write')).toBe(false);
    const [identity] = recorder.snapshot().identities;
    expect(identity.clientIds).toEqual(['billing']);
    expect(identity.uses.map((u) => u.name)).toEqual(['orders', 'payments']);
  });

  it('records the topics a CreateTopics names even when a cluster grant covers them (a plaintext listener allows everything)', () => {
    const recorder = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    const access = new SessionAccess('enforce', { listener: 'plain', principal: 'ANONYMOUS', roles: [], clientAddress: '10.0.0.1:9', clientId: 'setup' }, EVERYTHING_ALLOWED.current, new DenialLog(log, undefined));
    access.recordTo(recorder);
    const request = { ...defaultCreateTopicsRequest(), topics: [{ ...defaultCreateTopicsRequestCreatableTopic(), name: 'orders-new' }] };
    expect(TOPIC_RULES[API_KEYS.CreateTopics].authorize(request, { version: 7, access, topicName: () => undefined, clusterTopics: () => undefined, fetchSession: new FetchSessionMirror(10) }).action).toBe('forward');
    const uses = recorder.snapshot().identities[0].uses.map((u) => `${u.kind} ${u.name} ${u.operation}`);
    expect(uses).toEqual(['topic orders-new create']);
  });
});

describe('recording files', () => {
  it('merge across files: counts add up, first and last seen widen', async () => {
    const dir = tempDir();
    const use = (firstSeen: number, lastSeen: number, count: number) => ({ kind: 'topic' as const, name: 'orders', operation: 'write' as const, firstSeen, lastSeen, count });
    const identity = { listener: 'plain', principal: 'ANONYMOUS', authenticated: false, addresses: ['10.0.0.1'], clientIds: ['billing'] };
    await writeRecordingFile(join(dir, 'recording-a-1.json'), { version: 1, identities: [{ ...identity, firstSeen: 100, lastSeen: 200, uses: [use(100, 200, 3)] }], dropped: 1 });
    await writeRecordingFile(join(dir, 'recording-b-2.json'), { version: 1, identities: [{ ...identity, firstSeen: 50, lastSeen: 150, uses: [use(50, 150, 2)] }], dropped: 0 });
    writeFileSync(join(dir, 'notes.txt'), 'not a recording');
    const merged = await readRecordingDir(dir);
    expect(merged.dropped).toBe(1);
    expect(merged.identities).toHaveLength(1);
    expect(merged.identities[0]).toMatchObject({ firstSeen: 50, lastSeen: 200 });
    expect(merged.identities[0].uses).toEqual([use(50, 200, 5)]);
  });

  it('the writer leaves one complete file, no temp file, and writes at stop what came since', async () => {
    const dir = join(tempDir(), 'nested');
    const recorder = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    const writer = new RecordingWriter(recorder, dir, 3600, log);
    recorder.identityOf(plaintext('10.0.0.1:1', 'a'))!.note('topic', 'orders', 'read');
    await writer.write();
    recorder.identityOf(plaintext('10.0.0.1:1', 'a'))!.note('transactionalId', 'tx-1', 'write');
    await writer.stop();
    expect(readdirSync(dir)).toEqual([basename(writer.file)]);
    const { identities } = await readRecordingDir(dir);
    expect(identities[0].uses.map((u) => u.name).sort()).toEqual(['orders', 'tx-1']);
  });

  it('a restarted proxy writes a new file beside the old one, and both count', async () => {
    const dir = tempDir();
    const before = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    before.identityOf(plaintext('10.0.0.1:1', 'a'))!.note('topic', 'orders', 'read');
    await writeRecordingFile(join(dir, 'recording-host-1.json'), before.snapshot());
    const after = new AccessRecorder({ maxIdentities: 10, maxEntriesPerIdentity: 10 });
    after.identityOf(plaintext('10.0.0.1:1', 'a'))!.note('topic', 'orders', 'read');
    await new RecordingWriter(after, dir, 3600, log).stop();
    const { identities } = await readRecordingDir(dir);
    expect(identities[0].uses[0].count).toBe(2);
  });

  it('writes a large recording in slices: the same file as in one piece, owner-only, never holding the event loop for long', async () => {
    const dir = tempDir();
    const recorder = new AccessRecorder({ maxIdentities: 4000, maxEntriesPerIdentity: 50 });
    for (let i = 0; i < 4000; i++) {
      const identity = recorder.identityOf(plaintext(`10.0.${i >> 8}.${i & 255}:1`, `client-${i}`))!;
      for (let t = 0; t < 50; t++) identity.note('topic', `payments.settlement-events-v${t}`, 'read');
    }
    recorder.identityOf(plaintext('10.9.9.9:1', 'late'));
    const started = performance.now();
    const whole = JSON.stringify(recorder.snapshot());
    const onePieceMs = performance.now() - started;
    let longestGap = 0;
    let last = performance.now();
    let counting = true;
    const tick = () => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const sliced = join(dir, 'sliced.json');
    await writeRecordingFileInSlices(sliced, recorder.identityRecorders(), () => recorder.droppedCount);
    counting = false;
    expect(readFileSync(sliced, 'utf8')).toBe(whole);
    expect(JSON.parse(whole).dropped).toBe(1);
    expect(statSync(sliced).mode & 0o777).toBe(0o600);
    // 200,000 entries take a few hundred milliseconds in one piece; in slices the loop turns every few.
    expect(longestGap).toBeLessThan(onePieceMs / 3);
  });
});

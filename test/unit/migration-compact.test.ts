import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compactRecordingDir } from '../../src/migration/compact-recording.js';
import { type Recording, identityKey, useKey } from '../../src/migration/recording.js';
import { readRecordingDir, writeRecordingFile } from '../../src/migration/recording-files.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'compact-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const HOUR = 3_600_000;
const NOW = Date.parse('2026-12-05T12:00:00Z');

/** A recording's content in one order, so two readings compare equal however files were merged. */
function normalized(r: Recording) {
  return {
    dropped: r.dropped,
    identities: r.identities
      .map((i) => ({ ...i, addresses: [...i.addresses].sort(), clientIds: [...i.clientIds].sort(), uses: [...i.uses].sort((a, b) => useKey(a).localeCompare(useKey(b))) }))
      .sort((a, b) => identityKey(a).localeCompare(identityKey(b))),
  };
}

async function writeFileAged(dir: string, name: string, recording: Recording, ageMs: number): Promise<void> {
  const file = join(dir, name);
  await writeRecordingFile(file, recording);
  const at = (NOW - ageMs) / 1000;
  utimesSync(file, at, at);
}

const recordingArb = fc.record({
  version: fc.constant(1 as const),
  dropped: fc.nat(5),
  identities: fc.array(
    fc.record({
      listener: fc.constantFrom('legacy', 'secure'),
      principal: fc.constantFrom('ANONYMOUS', 'svc-a', 'svc-b'),
      authenticated: fc.boolean(),
      addresses: fc.array(fc.constantFrom('10.0.0.1', '10.0.0.2'), { minLength: 1, maxLength: 2 }),
      clientIds: fc.array(fc.constantFrom('billing', 'orders'), { minLength: 1, maxLength: 2 }),
      firstSeen: fc.integer({ min: 0, max: 1000 }),
      lastSeen: fc.integer({ min: 1000, max: 2000 }),
      uses: fc.uniqueArray(
        fc.record({
          kind: fc.constantFrom('topic' as const, 'group' as const),
          name: fc.constantFrom('orders', 'payments', 'g1'),
          operation: fc.constantFrom('read' as const, 'write' as const),
          firstSeen: fc.integer({ min: 0, max: 1000 }),
          lastSeen: fc.integer({ min: 1000, max: 2000 }),
          count: fc.integer({ min: 1, max: 50 }),
        }),
        { selector: (u) => useKey(u), maxLength: 4 },
      ),
    }),
    { maxLength: 4 },
  ),
});

describe('access compact', () => {
  it('reads the same before and after, for any recordings split into files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordingArb, { minLength: 2, maxLength: 6 }), async (recordings) => {
        const dir = tempDir();
        for (const [i, r] of recordings.entries()) await writeFileAged(dir, `recording-host-${i}-x.json`, r, 2 * HOUR);
        const before = normalized(await readRecordingDir(dir));
        const outcome = await compactRecordingDir(dir, HOUR, () => {}, NOW);
        expect(outcome.merged).toHaveLength(recordings.length);
        expect(readdirSync(dir)).toEqual([outcome.written]);
        expect(normalized(await readRecordingDir(dir))).toEqual(before);
      }),
      { numRuns: 30 },
    );
  });

  it('leaves files a running proxy may still rewrite, and unreadable ones, where they are', async () => {
    const dir = tempDir();
    const r = (count: number): Recording => ({
      version: 1,
      dropped: 0,
      identities: [{ listener: 'legacy', principal: 'ANONYMOUS', authenticated: false, addresses: ['10.0.0.1'], clientIds: ['billing'], firstSeen: 1, lastSeen: 2, uses: [{ kind: 'topic', name: 'orders', operation: 'read', firstSeen: 1, lastSeen: 2, count }] }],
    });
    await writeFileAged(dir, 'recording-a.json', r(1), 2 * HOUR);
    await writeFileAged(dir, 'recording-b.json', r(2), 2 * HOUR);
    await writeFileAged(dir, 'recording-live.json', r(4), 10_000);
    writeFileSync(join(dir, 'recording-broken.json'), '{"version": 1, "identit');
    utimesSync(join(dir, 'recording-broken.json'), (NOW - 2 * HOUR) / 1000, (NOW - 2 * HOUR) / 1000);
    const outcome = await compactRecordingDir(dir, HOUR, () => {}, NOW);
    expect(outcome.merged.sort()).toEqual(['recording-a.json', 'recording-b.json']);
    expect(outcome.recent).toEqual(['recording-live.json']);
    expect(outcome.unreadable.map((u) => u.name)).toEqual(['recording-broken.json']);
    expect(readdirSync(dir).sort()).toEqual(['recording-broken.json', outcome.written, 'recording-live.json'].sort());
    expect(statSync(join(dir, outcome.written!)).mode & 0o777).toBe(0o600);
    rmSync(join(dir, 'recording-broken.json'));
    expect((await readRecordingDir(dir)).identities[0].uses[0].count).toBe(7);
  });

  it('refuses to run beside another compaction, saying how to clear a stale lock', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.compact.lock'), '');
    await expect(compactRecordingDir(dir, HOUR, () => {}, NOW)).rejects.toThrow(/another compaction .* is running .*remove .*\.compact\.lock/);
  });

  it('a reader between writing the merged file and deleting its sources counts nothing twice, and the next compaction finishes the job', async () => {
    const dir = tempDir();
    const one: Recording = {
      version: 1,
      dropped: 1,
      identities: [{ listener: 'legacy', principal: 'ANONYMOUS', authenticated: false, addresses: ['10.0.0.1'], clientIds: ['billing'], firstSeen: 1, lastSeen: 2, uses: [{ kind: 'topic', name: 'orders', operation: 'read', firstSeen: 1, lastSeen: 2, count: 3 }] }],
    };
    await writeFileAged(dir, 'recording-a.json', one, 2 * HOUR);
    await writeFileAged(dir, 'recording-b.json', one, 2 * HOUR);
    const whole = normalized(await readRecordingDir(dir));
    // As a compaction leaves the directory if it stops after its first write.
    await writeFileAged(dir, 'recording-compacted-earlier.json', { ...(await readRecordingDir(dir)), replaces: ['recording-a.json', 'recording-b.json'] }, 2 * HOUR);
    expect(normalized(await readRecordingDir(dir))).toEqual(whole);
    const outcome = await compactRecordingDir(dir, HOUR, () => {}, NOW);
    expect(readdirSync(dir)).toEqual([outcome.written]);
    expect(normalized(await readRecordingDir(dir))).toEqual(whole);
  });
});

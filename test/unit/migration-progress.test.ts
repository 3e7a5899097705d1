import { describe, expect, it } from 'vitest';
import { AccessRecorder } from '../../src/migration/access-recorder.js';
import { MigrationProgress } from '../../src/migration/migration-progress.js';

describe('MigrationProgress (kafka_proxy_plaintext_clients)', () => {
  it('counts each plaintext client id and address once, until that client id authenticates', () => {
    const progress = new MigrationProgress(100);
    progress.plaintextClient('billing', '10.0.0.1');
    progress.plaintextClient('billing', '10.0.0.1');
    progress.plaintextClient('billing', '10.0.0.2');
    progress.plaintextClient('orders', '10.0.0.1');
    expect(progress.stillOnPlaintext).toBe(3);
    progress.authenticatedClient('billing');
    progress.authenticatedClient('billing');
    expect(progress.stillOnPlaintext).toBe(1);
    // Seen on plaintext again after it moved (an old instance still running): it has moved all the same.
    progress.plaintextClient('billing', '10.0.0.3');
    expect(progress.stillOnPlaintext).toBe(1);
    progress.authenticatedClient('unrelated');
    expect(progress.stillOnPlaintext).toBe(1);
  });

  it('stops counting new clients at its cap', () => {
    const progress = new MigrationProgress(2);
    for (const id of ['a', 'b', 'c']) progress.plaintextClient(id, '10.0.0.1');
    expect(progress.stillOnPlaintext).toBe(2);
    for (const id of ['x', 'y', 'a']) progress.authenticatedClient(id);
    // The moved set is full with x and y: a is not known to have moved.
    expect(progress.stillOnPlaintext).toBe(2);
  });

  it("adds up workers' news into one count, each client once however many workers saw it", () => {
    const workers = [new MigrationProgress(100, true), new MigrationProgress(100, true)];
    const supervisor = new MigrationProgress(100);
    workers[0].plaintextClient('billing', '10.0.0.1');
    workers[1].plaintextClient('billing', '10.0.0.1');
    workers[1].plaintextClient('orders', '10.0.0.1');
    for (const w of workers) supervisor.add(w.takeNews()!);
    expect(workers.map((w) => w.stillOnPlaintext)).toEqual([1, 2]);
    expect(supervisor.stillOnPlaintext).toBe(2);
    expect(workers[0].takeNews()).toBeUndefined();
    workers[0].authenticatedClient('orders');
    supervisor.add(workers[0].takeNews()!);
    expect(supervisor.stillOnPlaintext).toBe(1);
  });

  it('keeps no news unless asked to', () => {
    const progress = new MigrationProgress(100);
    progress.plaintextClient('billing', '10.0.0.1');
    expect(progress.takeNews()).toBeUndefined();
  });

  it('hears every session from the access recorder, also past the recorder caps', () => {
    const progress = new MigrationProgress(100);
    const recorder = new AccessRecorder(
      { maxIdentities: 1, maxEntriesPerIdentity: 1 },
      { entryAdded: () => {}, dropped: () => {}, plaintextClient: (c, a) => progress.plaintextClient(c, a), authenticatedClient: (c) => progress.authenticatedClient(c) },
    );
    recorder.identityOf({ listener: 'plain', principal: 'ANONYMOUS', clientAddress: '::ffff:10.0.0.1:5000', clientId: 'billing' });
    recorder.identityOf({ listener: 'plain', principal: 'ANONYMOUS', clientAddress: '10.0.0.2:5000', clientId: null });
    expect(progress.stillOnPlaintext).toBe(2);
    recorder.identityOf({ listener: 'secure', principal: 'svc-billing', clientAddress: '10.0.0.1:5001', clientId: 'billing' });
    expect(progress.stillOnPlaintext).toBe(1);
  });
});

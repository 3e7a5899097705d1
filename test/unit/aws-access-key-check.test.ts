import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessKeyCheck } from '../../src/auth/aws/access-key-check.js';
import { AwsCredentialStore } from '../../src/auth/aws/credential-store.js';
import type { AwsCredential } from '../../src/auth/aws/credentials-file.js';
import { createLogger } from '../../src/observe/logger.js';
import { SESSION_TOKEN, credential } from '../support/aws-sign.js';

/** A store the test reloads by hand: `reload` swaps the keys and moves the generation, as a file reload does. */
function reloadableStore(...initial: AwsCredential[]) {
  let keys = new Map(initial.map((c) => [c.accessKeyId, c]));
  let lookups = 0;
  const store = {
    generation: 0,
    lookup(id: string) {
      lookups += 1;
      return keys.get(id);
    },
    reload(...next: AwsCredential[]) {
      keys = new Map(next.map((c) => [c.accessKeyId, c]));
      store.generation += 1;
    },
    get lookups() {
      return lookups;
    },
  };
  return store;
}

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);

describe('AccessKeyCheck', () => {
  it('looks at the store only after a reload, once per reload', () => {
    const store = reloadableStore(credential());
    const check = new AccessKeyCheck(store, credential());
    for (let i = 0; i < 1000; i++) expect(check.recheckIfReloaded(NOW)).toBeUndefined();
    expect(store.lookups).toBe(0);
    store.reload(credential());
    expect(check.recheckIfReloaded(NOW)).toEqual({ valid: true, roles: ['producer'], expiresAtMs: null });
    expect(check.recheckIfReloaded(NOW)).toBeUndefined();
    expect(store.lookups).toBe(1);
  });

  it('gives the roles the file holds now', () => {
    const store = reloadableStore(credential());
    const check = new AccessKeyCheck(store, credential());
    store.reload(credential({ roles: ['consumer', 'admin'] }));
    expect(check.recheckIfReloaded(NOW)).toMatchObject({ valid: true, roles: ['consumer', 'admin'] });
  });

  it.each<[string, AwsCredential[], string]>([
    ['the key is removed', [credential({ accessKeyId: 'AKIDOTHER' })], 'credential-removed'],
    ['the secret changed', [credential({ secretAccessKey: 'another-secret-of-enough-length' })], 'secret-changed'],
    ['a session token is now required', [credential({ sessionToken: SESSION_TOKEN })], 'secret-changed'],
    ['the key stands for another principal', [credential({ principal: 'User:mallory' })], 'principal-changed'],
    ['the key was given an expiry that has passed', [credential({ expiresAtMs: NOW - 1 })], 'credential-expired'],
  ])('ends the session when %s', (_name, next, reason) => {
    const store = reloadableStore(credential());
    const check = new AccessKeyCheck(store, credential());
    store.reload(...next);
    expect(check.recheckIfReloaded(NOW)).toEqual({ valid: false, reason });
  });

  it('tells a session token that changed from one that stayed', () => {
    const store = reloadableStore(credential({ sessionToken: SESSION_TOKEN }));
    const check = new AccessKeyCheck(store, credential({ sessionToken: SESSION_TOKEN }));
    store.reload(credential({ sessionToken: SESSION_TOKEN }));
    expect(check.recheckIfReloaded(NOW)).toMatchObject({ valid: true });
    store.reload(credential({ sessionToken: `${SESSION_TOKEN}2` }));
    expect(check.recheckIfReloaded(NOW)).toEqual({ valid: false, reason: 'secret-changed' });
  });

  it('reports a later expiry the file gives the key', () => {
    const store = reloadableStore(credential());
    const check = new AccessKeyCheck(store, credential());
    store.reload(credential({ expiresAtMs: NOW + 60_000 }));
    expect(check.recheckIfReloaded(NOW)).toMatchObject({ valid: true, expiresAtMs: NOW + 60_000 });
  });
});

describe('AwsCredentialStore generation', () => {
  const dirs: string[] = [];
  const stores: AwsCredentialStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('moves when new keys are in use, and not when a broken file is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aws-generation-'));
    dirs.push(dir);
    const file = join(dir, 'credentials.yaml');
    const yaml = (principal: string) => `accessKeys:\n  AKIDEXAMPLE:\n    secretAccessKey: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n    principal: ${principal}\n`;
    writeFileSync(file, yaml('User:alice'));
    const store = new AwsCredentialStore(file, createLogger('silent'), { watchIntervalMs: 60_000 });
    stores.push(store);
    await store.start();
    const started = store.generation;

    writeFileSync(file, 'accessKeys: [broken');
    expect(await store.reload()).toBe(false);
    expect(store.generation).toBe(started);

    writeFileSync(file, yaml('User:bob'));
    expect(await store.reload()).toBe(true);
    expect(store.generation).toBe(started + 1);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { AwsCredentialStore } from '../../src/auth/aws/credential-store.js';
import { parseCredentialsFile } from '../../src/auth/aws/credentials-file.js';
import { createLogger } from '../../src/observe/logger.js';

const SECRET_A = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SECRET_B = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE/SESSION+TOKEN=';

const good = `
accessKeys:
  AKIDEXAMPLE:
    secretAccessKey: ${SECRET_A}
    principal: User:alice
    roles: [producer, consumer]
  ASIATEMPORARY:
    secretAccessKey: ${SECRET_B}
    principal: User:batch
    sessionToken: ${TOKEN}
    expiresAt: 2024-01-15T13:00:00+01:00
`;

function problemsOf(text: string): string[] {
  try {
    parseCredentialsFile(text, 'creds.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected the file to be refused');
}

describe('credentials file', () => {
  it('reads keys with their principal, roles, session token and expiry', () => {
    const credentials = parseCredentialsFile(good, 'creds.yaml');
    expect(credentials.get('AKIDEXAMPLE')).toEqual({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET_A, principal: 'User:alice', roles: ['producer', 'consumer'] });
    expect(credentials.get('ASIATEMPORARY')).toEqual({
      accessKeyId: 'ASIATEMPORARY',
      secretAccessKey: SECRET_B,
      principal: 'User:batch',
      roles: [],
      sessionToken: TOKEN,
      expiresAtMs: Date.UTC(2024, 0, 15, 12, 0, 0),
    });
  });

  it('names every problem by its path, and quotes no value from the file', () => {
    const problems = problemsOf(`
accessKeys:
  AKIDEXAMPLE:
    secretAccesKey: ${SECRET_A}
    principal: ""
    roles: [1]
    sessionToken: "${TOKEN} with spaces"
    expiresAt: "tomorrow"
  AKIDSHORT:
    secretAccessKey: short
    principal: User:bob
  "AKID/SLASH":
    secretAccessKey: ${SECRET_B}
    principal: User:carol
`);
    expect(problems).toEqual([
      'accessKeys.AKIDEXAMPLE.secretAccessKey: Invalid input: expected string, received undefined',
      'accessKeys.AKIDEXAMPLE.principal: Too small: expected string to have >=1 characters',
      'accessKeys.AKIDEXAMPLE.roles[0]: Invalid input: expected string, received number',
      'accessKeys.AKIDEXAMPLE.sessionToken: must be printable ASCII without spaces',
      'accessKeys.AKIDEXAMPLE.expiresAt: must be an ISO 8601 date-time with a time zone, e.g. 2025-06-30T12:00:00Z',
      'accessKeys.AKIDEXAMPLE: Unrecognized key: "secretAccesKey"',
      'accessKeys.AKIDSHORT.secretAccessKey: must be at least 16 characters',
      'accessKeys.AKID/SLASH: access key ids are 1-128 letters, digits or underscores',
    ]);
    for (const secret of [SECRET_A, SECRET_B, TOKEN, 'short']) expect(problems.join('\n')).not.toContain(secret);
  });

  it('reports YAML errors without the source line they quote', () => {
    const problems = problemsOf(`accessKeys:\n  AKIDEXAMPLE:\n    secretAccessKey: ${SECRET_A}\n   principal: [x\n`);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).not.toContain(SECRET_A);
    expect(problemsOf(`accessKeys:\n  AKID1:\n    secretAccessKey: ${SECRET_A}\n    secretAccessKey: ${SECRET_B}\n    principal: a\n`)[0]).toMatch(
      /^: Map keys must be unique/,
    );
  });

  it('needs the accessKeys map', () => {
    expect(problemsOf('keys: {}')).toEqual(['accessKeys: Invalid input: expected record, received undefined', ': Unrecognized key: "keys"']);
  });
});

describe('AwsCredentialStore', () => {
  const dirs: string[] = [];
  const stores: AwsCredentialStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function setup(text: string, watchIntervalMs = 60_000) {
    const dir = mkdtempSync(join(tmpdir(), 'aws-creds-'));
    dirs.push(dir);
    const file = join(dir, 'credentials.yaml');
    writeFileSync(file, text);
    const lines: string[] = [];
    const log = createLogger(
      'debug',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const store = new AwsCredentialStore(file, log, { watchIntervalMs });
    stores.push(store);
    const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    return { file, store, lines, logged };
  }

  it('refuses to start on a broken file: there is nothing to fall back to', async () => {
    const { store } = setup('accessKeys: [');
    await expect(store.start()).rejects.toBeInstanceOf(ConfigError);
  });

  it('reload: good, then broken (old keys kept, warned), then fixed', async () => {
    const { file, store, lines, logged } = setup(good);
    await store.start();
    expect(store.lookup('AKIDEXAMPLE')?.principal).toBe('User:alice');

    writeFileSync(file, good.replace('principal: User:alice', 'principal: ""'));
    expect(await store.reload()).toBe(false);
    expect(store.lookup('AKIDEXAMPLE')?.principal).toBe('User:alice');
    const warning = logged().at(-1)!;
    expect(warning).toMatchObject({ level: 'warn', reason: 'reload requested', accessKeys: 2, msg: 'AWS credentials file rejected; keeping the previous credentials' });
    expect(warning.err).toContain('accessKeys.AKIDEXAMPLE.principal');

    rmSync(file);
    expect(await store.reload()).toBe(false);
    expect(logged().at(-1)!.err).toContain('cannot read: ENOENT');
    expect(store.lookup('AKIDEXAMPLE')).toBeDefined();

    writeFileSync(file, good.replace('principal: User:alice', 'principal: User:alice2'));
    expect(await store.reload()).toBe(true);
    expect(store.lookup('AKIDEXAMPLE')?.principal).toBe('User:alice2');
    expect(logged().at(-1)).toMatchObject({ level: 'info', accessKeys: 2, msg: 'AWS credentials reloaded' });

    const everything = lines.join('');
    for (const secret of [SECRET_A, SECRET_B, TOKEN]) expect(everything).not.toContain(secret);
  });

  it('picks up a changed file by itself', async () => {
    const { file, store } = setup(good, 20);
    await store.start();
    expect(store.lookup('AKIDNEW')).toBeUndefined();
    writeFileSync(file, `${good}  AKIDNEW:\n    secretAccessKey: ${SECRET_B}\n    principal: User:new\n`);
    await vi.waitFor(() => expect(store.lookup('AKIDNEW')?.principal).toBe('User:new'), { timeout: 5_000, interval: 20 });
  });

  it('keeps the old keys when the watched file turns bad', async () => {
    const { file, store, logged } = setup(good, 20);
    await store.start();
    writeFileSync(file, 'accessKeys:\n  AKIDEXAMPLE: {}\n');
    await vi.waitFor(() => expect(logged().at(-1)).toMatchObject({ level: 'warn', reason: 'file changed' }), { timeout: 5_000, interval: 20 });
    expect(store.lookup('AKIDEXAMPLE')?.principal).toBe('User:alice');
  });
});

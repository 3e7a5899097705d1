import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CompiledPolicy } from '../../src/authz/compiled-policy.js';
import { PolicyStore } from '../../src/authz/policy-store.js';
import { ConfigError } from '../../src/config/load.js';
import { createLogger } from '../../src/observe/logger.js';

const good = `
roles:
  orders-writer:
    - { topics: ["orders"], operations: [write] }
  orders-reader:
    - { topics: ["orders"], operations: [read] }
bindings:
  svc-billing: [orders-writer]
`;
const writes = (policy: CompiledPolicy, principal: string) => policy.grantsFor(principal, []).allows('topic', 'orders', 'write');

describe('PolicyStore', () => {
  const dirs: string[] = [];
  const stores: PolicyStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function setup(text: string) {
    const dir = mkdtempSync(join(tmpdir(), 'authz-store-'));
    dirs.push(dir);
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, text);
    const lines: Record<string, unknown>[] = [];
    const log = createLogger(
      'debug',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      }),
    );
    const open = async (watchIntervalMs = 60_000) => {
      const store = await PolicyStore.open(file, log, { watchIntervalMs });
      stores.push(store);
      return store;
    };
    return { file, lines, open };
  }

  it('refuses to start on a broken file: there is nothing to fall back to', async () => {
    const { open } = setup('roles: { r: [ { topics: [x], operations: [wirte] } ] }');
    const refused = await open().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems.map((p) => p.path)).toEqual(['roles.r[0].operations[0]']);
  });

  it('reload: broken file keeps the old policy with a warning per problem, a good one swaps and tells listeners', async () => {
    const { file, lines, open } = setup(good);
    const store = await open();
    expect(lines.at(-1)).toMatchObject({ level: 'info', policyFile: file, roles: 2, bindings: 1, msg: 'policy loaded' });
    const first = store.current;
    expect(writes(first, 'svc-billing')).toBe(true);
    const changes: CompiledPolicy[] = [];
    store.onChange((p) => changes.push(p));

    writeFileSync(file, good.replace('[write]', '[wirte]').replace('[orders-writer]', '[orders-wrtier]'));
    expect(await store.reload()).toBe(false);
    expect(store.current).toBe(first);
    expect(lines.at(-1)).toMatchObject({
      level: 'warn',
      reason: 'reload requested',
      problems: ['roles.orders-writer[0].operations[0]: unknown operation "wirte"', 'bindings.svc-billing[0]: unknown role "orders-wrtier"'],
      msg: 'policy file rejected; keeping the previous policy',
    });

    rmSync(file);
    expect(await store.reload()).toBe(false);
    expect(lines.at(-1)!.problems).toEqual(['cannot read: ENOENT']);
    expect(changes).toEqual([]);

    writeFileSync(file, good.replace('svc-billing:', 'svc-shipping:'));
    expect(await store.reload('SIGHUP')).toBe(true);
    expect(writes(store.current, 'svc-billing')).toBe(false);
    expect(writes(store.current, 'svc-shipping')).toBe(true);
    expect(changes).toEqual([store.current]);
    expect(lines.at(-1)).toMatchObject({ level: 'info', reason: 'SIGHUP', roles: 2, bindings: 1, msg: 'policy reloaded' });
  });

  it('a failing listener is logged and does not stop the others; unregistered listeners hear nothing', async () => {
    const { file, lines, open } = setup(good);
    const store = await open();
    const heard: string[] = [];
    store.onChange(() => {
      throw new Error('boom');
    });
    store.onChange(() => heard.push('second'));
    const off = store.onChange(() => heard.push('removed'));
    off();
    writeFileSync(file, `${good}  svc-new: [orders-reader]\n`);
    expect(await store.reload()).toBe(true);
    expect(heard).toEqual(['second']);
    expect(lines.some((l) => l.level === 'error' && l.err === 'boom')).toBe(true);
  });

  it('picks up a changed file by itself, and warns once about a broken one', async () => {
    const { file, lines, open } = setup(good);
    const store = await open(20);
    writeFileSync(file, `${good}  svc-new: [orders-writer]\n`);
    await vi.waitFor(() => expect(writes(store.current, 'svc-new')).toBe(true), { timeout: 5_000, interval: 20 });
    expect(lines.at(-1)).toMatchObject({ reason: 'file changed', bindings: 2 });

    writeFileSync(file, 'roles: [');
    await vi.waitFor(() => expect(lines.at(-1)).toMatchObject({ level: 'warn', reason: 'file changed' }), { timeout: 5_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 200));
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(writes(store.current, 'svc-new')).toBe(true);
  });
});

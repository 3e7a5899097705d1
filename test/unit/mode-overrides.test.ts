import { describe, expect, it } from 'vitest';
import { type ProxyConfig, configSchema } from '../../src/config/schema.js';
import { ModeOverrides } from '../../src/workers/mode-overrides.js';
import { readinessOf } from '../../src/workers/proxy-wide-status.js';

const listener = (name: string, mode: string) => ({ name, bind: '127.0.0.1', port: 19092, advertisedHost: 'localhost', brokerPorts: { base: 19192 }, authentication: 'none', mode });

function config(...listeners: Array<ReturnType<typeof listener>>): ProxyConfig {
  return configSchema.parse({ upstream: { bootstrapServers: ['127.0.0.1:9092'] }, listeners: listeners.map((l, i) => ({ ...l, port: l.port + i, brokerPorts: { base: 19192 + 100 * i } })) });
}

const caller = { by: 'ops', address: '127.0.0.1' };

describe('ModeOverrides (live mode switches over the config file)', () => {
  it('applies a switch to the listener it names, and leaves the file config alone', () => {
    const overrides = new ModeOverrides();
    const file = config(listener('a', 'enforce'), listener('b', 'enforce'));
    expect(overrides.applyTo(file).config).toBe(file);
    expect(overrides.set('a', 'allow-all', 'enforce', caller)).toBe(true);
    const { config: effective, ended } = overrides.applyTo(file);
    expect(effective.listeners.map((l) => l.mode)).toEqual(['allow-all', 'enforce']);
    expect(file.listeners[0].mode).toBe('enforce');
    expect(ended).toEqual([]);
    expect(overrides.get('a')).toMatchObject({ mode: 'allow-all', configuredMode: 'enforce', by: 'ops' });
  });

  it('a switch back to the file mode ends the override', () => {
    const overrides = new ModeOverrides();
    overrides.set('a', 'audit', 'enforce', caller);
    expect(overrides.set('a', 'enforce', 'enforce', caller)).toBe(false);
    expect(overrides.get('a')).toBeUndefined();
  });

  it('survives a reload of the same file, ends when the file sets another mode or drops the listener', () => {
    const overrides = new ModeOverrides();
    overrides.set('a', 'allow-all', 'enforce', caller);
    overrides.set('b', 'audit', 'enforce', caller);
    expect(overrides.applyTo(config(listener('a', 'enforce'), listener('b', 'enforce'))).ended).toEqual([]);
    const { config: effective, ended } = overrides.applyTo(config(listener('a', 'audit')));
    expect(ended).toEqual([
      { listener: 'a', reason: 'the config file now sets mode audit' },
      { listener: 'b', reason: 'the listener is no longer in the config file' },
    ]);
    expect(effective.listeners[0].mode).toBe('audit');
    expect(overrides.get('a')).toBeUndefined();
  });
});

describe('readinessOf (the whole proxy readiness, /readyz)', () => {
  const worker = (id: number, state: 'starting' | 'ready' | 'draining', notReady?: string[]) => ({
    id,
    pid: 100 + id,
    generation: 1,
    state,
    status: notReady && { notReady, listeners: [], brokers: [] },
  });

  it('is not ready while no worker accepts, or while stopping', () => {
    expect(readinessOf([worker(1, 'starting')], false)).toEqual({ ready: false, notReady: [expect.stringContaining('no worker accepts connections yet (1 starting')] });
    expect(readinessOf([worker(1, 'ready', [])], true)).toEqual({ ready: false, notReady: ['the proxy is stopping'] });
  });

  it('is ready only when every accepting worker can serve every client', () => {
    expect(readinessOf([worker(1, 'ready', []), worker(2, 'starting')], false)).toEqual({ ready: true, notReady: [] });
    expect(readinessOf([worker(1, 'ready', []), worker(2, 'ready', ['the JWKS has not been loaded'])], false)).toEqual({ ready: false, notReady: ['worker 2: the JWKS has not been loaded'] });
    expect(readinessOf([worker(1, 'ready')], false)).toEqual({ ready: false, notReady: ['worker 1: did not answer'] });
  });
});

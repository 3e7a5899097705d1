import { describe, expect, it } from 'vitest';
import { changesNeedingRestart } from '../../src/config/reload-plan.js';
import { type ProxyConfig, configSchema } from '../../src/config/schema.js';
import { workerCount, workerShare } from '../../src/config/worker-share.js';

const listener = (name: string, port: number) => ({ name, bind: '127.0.0.1', port, advertisedHost: 'localhost', brokerPorts: { base: port + 100 }, authentication: 'none' as const });

function config(changes: Record<string, unknown> = {}): ProxyConfig {
  return configSchema.parse({
    upstream: { bootstrapServers: ['127.0.0.1:9092'] },
    listeners: [listener('plain', 19092), listener('other', 29092)],
    authorization: { policyFile: '/etc/proxy/policy.yaml' },
    ...changes,
  });
}

describe('changesNeedingRestart (which config changes a running worker cannot apply)', () => {
  it('applies log level, limits, listener modes and listener limits in place', () => {
    const next = config({
      logging: { level: 'debug' },
      limits: { maxInFlightRequests: 10, shutdownGraceMs: 1000 },
      listeners: [{ ...listener('plain', 19092), mode: 'audit', limits: { maxConnections: 5 } }, listener('other', 29092)],
    });
    expect(changesNeedingRestart(config(), next)).toEqual([]);
  });

  it('applies principal mode overrides in place', () => {
    const overriding = (modeOverrides: Record<string, string>) => config({ listeners: [{ ...listener('plain', 19092), authentication: ['OAUTHBEARER'], modeOverrides }, listener('other', 29092)], oauthbearer: { jwksUrl: 'https://idp/jwks', issuer: 'https://idp', audience: ['kafka'] } });
    expect(changesNeedingRestart(overriding({ 'team-a*': 'audit' }), overriding({ 'team-a*': 'enforce', 'team-b': 'audit' }))).toEqual([]);
  });

  it('leaves the admin endpoint and the worker count to the supervisor', () => {
    expect(changesNeedingRestart(config(), config({ workers: 7, admin: { port: 9464 } }))).toEqual([]);
  });

  it('needs new workers to start, stop or change access recording', () => {
    const recording = { accessRecording: { directory: '/var/lib/proxy/recording' } };
    expect(changesNeedingRestart(config(), config(recording))).toEqual(['accessRecording']);
    expect(changesNeedingRestart(config(recording), config({ accessRecording: { directory: '/var/lib/proxy/recording', intervalSeconds: 5 } }))).toEqual(['accessRecording.intervalSeconds']);
    const recordingOff = config({ listeners: [{ ...listener('plain', 19092), recordAccess: false }, listener('other', 29092)] });
    expect(changesNeedingRestart(config(), recordingOff)).toEqual(['listeners[plain].recordAccess']);
  });

  it('names each change that needs new sockets or new components', () => {
    const next = config({
      upstream: { bootstrapServers: ['127.0.0.1:9093'] },
      listeners: [{ ...listener('plain', 19093), mode: 'audit' }, listener('extra', 39092)],
      authorization: { policyFile: '/etc/proxy/other-policy.yaml' },
    });
    expect(changesNeedingRestart(config(), next).sort()).toEqual(
      ['authorization.policyFile', 'listeners[+extra]', 'listeners[-other]', 'listeners[plain].brokerPorts', 'listeners[plain].port', 'upstream.bootstrapServers'].sort(),
    );
  });

  it('a section added or removed is one change', () => {
    const next = config({ oauthbearer: { jwksUrl: 'https://idp/jwks', issuer: 'https://idp', audience: ['kafka'] } });
    expect(changesNeedingRestart(config(), next)).toEqual(['oauthbearer']);
    expect(changesNeedingRestart(next, config())).toEqual(['oauthbearer']);
  });
});

describe('workerShare and workerCount', () => {
  it('splits each listener\'s connection counts between the workers, rounding up, and keeps the memory budgets whole', () => {
    const whole = config({ listeners: [{ ...listener('plain', 19092), limits: { maxConnections: 10, maxConnectionsPerIp: 3, maxUnauthenticatedConnectionsPerIp: 1 } }] });
    const share = workerShare(whole, 4);
    expect(share.listeners[0].limits).toMatchObject({
      maxConnections: 3,
      maxConnectionsPerIp: 1,
      maxUnauthenticatedConnectionsPerIp: 1,
      maxUnauthenticatedConnections: 250,
      maxNewConnectionsPerSecondPerIp: 25,
      authenticationTimeoutMs: whole.listeners[0].limits.authenticationTimeoutMs,
    });
    expect(share.limits).toEqual(whole.limits);
    // The proxy's config is left as it was.
    expect(whole.listeners[0].limits.maxConnections).toBe(10);
  });

  it('auto is one worker per core the process may use; a number is taken as it is', () => {
    expect(workerCount('auto')).toBeGreaterThanOrEqual(1);
    expect(workerCount(3)).toBe(3);
    expect(config().workers).toBe('auto');
  });
});

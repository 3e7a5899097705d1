import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { JwksStatus } from '../../src/auth/jwks-cache.js';
import type { PolicyStatus } from '../../src/authz/policy-store.js';
import { ListenerMetrics } from '../../src/observe/listener-metrics.js';
import { type ObservedProxy, ProxyMetrics } from '../../src/observe/metrics.js';

const jwks = (keyIds: string[], fetchedAt?: Date): JwksStatus => ({ source: 'http://issuer/jwks.json', keyIds, fetchedAt, fresh: fetchedAt !== undefined, failures: 0 });
const policy = (hash: string, loadedAt: Date): PolicyStatus => ({ file: 'policy.yaml', hash, loadedAt, roles: 1, bindings: 0 });

/** A worker's metrics observing a proxy whose JWKS, policy and budgets the test sets. */
function worker(state: { jwks?: JwksStatus; policy?: PolicyStatus; held?: number } = {}) {
  const metrics = new ProxyMetrics();
  const observed: ObservedProxy = {
    jwks: () => state.jwks,
    policy: () => state.policy,
    budgets: { 'held-responses': { heldBytes: state.held ?? 0 }, 'preauth-bytes': { heldBytes: 10 }, 'request-bytes': { heldBytes: 0 } },
  };
  metrics.observe(observed);
  return { metrics, state };
}

const series = async (metrics: ProxyMetrics, name: string) => (await metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));

describe('ProxyMetrics: gauges read at collect time', () => {
  it('reports no JWKS or policy series without OAUTHBEARER or a policy, rather than zeros', async () => {
    const { metrics } = worker();
    for (const name of ['kafka_proxy_jwks_keys', 'kafka_proxy_jwks_last_success_age_seconds', 'kafka_proxy_policy_info', 'kafka_proxy_policy_loaded_timestamp_seconds']) {
      expect(await series(metrics, name), name).toEqual([]);
    }
  });

  it('reports keys but no age before the first successful fetch, then the age', async () => {
    const { metrics, state } = worker({ jwks: jwks([]) });
    expect(await series(metrics, 'kafka_proxy_jwks_keys')).toEqual(['kafka_proxy_jwks_keys 0']);
    expect(await series(metrics, 'kafka_proxy_jwks_last_success_age_seconds')).toEqual([]);
    state.jwks = jwks(['k1', 'k2'], new Date(Date.now() - 90_000));
    expect(await series(metrics, 'kafka_proxy_jwks_keys')).toEqual(['kafka_proxy_jwks_keys 2']);
    const [age] = await series(metrics, 'kafka_proxy_jwks_last_success_age_seconds');
    expect(Number(age.split(' ')[1])).toBeCloseTo(90, 0);
  });

  it('keeps one policy_info series, for the hash in use', async () => {
    const loadedAt = new Date('2026-12-01T10:00:00Z');
    const { metrics, state } = worker({ policy: policy('aaa', loadedAt) });
    expect(await series(metrics, 'kafka_proxy_policy_info')).toEqual(['kafka_proxy_policy_info{hash="aaa"} 1']);
    expect(await series(metrics, 'kafka_proxy_policy_loaded_timestamp_seconds')).toEqual([`kafka_proxy_policy_loaded_timestamp_seconds ${loadedAt.getTime() / 1000}`]);
    state.policy = policy('bbb', new Date());
    expect(await series(metrics, 'kafka_proxy_policy_info')).toEqual(['kafka_proxy_policy_info{hash="bbb"} 1']);
  });

  it('reports the bytes each budget holds', async () => {
    const { metrics } = worker({ held: 4096 });
    expect(await series(metrics, 'kafka_proxy_buffered_bytes')).toEqual([
      'kafka_proxy_buffered_bytes{budget="held-responses"} 4096',
      'kafka_proxy_buffered_bytes{budget="preauth-bytes"} 10',
      'kafka_proxy_buffered_bytes{budget="request-bytes"} 0',
    ]);
  });

  it('combines workers as the supervisor does: fewest keys, stalest JWKS, oldest policy, budgets and upstream connections summed', async () => {
    const now = Date.now();
    const a = worker({ jwks: jwks(['k1', 'k2'], new Date(now - 10_000)), policy: policy('new', new Date(now)), held: 100 });
    const b = worker({ jwks: jwks(['k1'], new Date(now - 600_000)), policy: policy('old', new Date(now - 3_600_000)), held: 50 });
    new ListenerMetrics(a.metrics, 'secure').upstreamOpened();
    new ListenerMetrics(b.metrics, 'secure').upstreamOpened();
    const text = await AggregatorRegistry.aggregate([await a.metrics.registry.getMetricsAsJSON(), await b.metrics.registry.getMetricsAsJSON()]).metrics();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('kafka_proxy_jwks_keys')).toBe(1);
    expect(value('kafka_proxy_jwks_last_success_age_seconds')).toBeGreaterThanOrEqual(600);
    expect(value('kafka_proxy_policy_loaded_timestamp_seconds')).toBe((now - 3_600_000) / 1000);
    expect(value('kafka_proxy_policy_info{hash="new"}')).toBe(1);
    expect(value('kafka_proxy_policy_info{hash="old"}')).toBe(1);
    expect(value('kafka_proxy_buffered_bytes{budget="held-responses"}')).toBe(150);
    expect(value('kafka_proxy_upstream_connections{listener="secure"}')).toBe(2);
  });
});

describe('ListenerMetrics', () => {
  it('counts requests by API name, a key the proxy does not know as unknown', async () => {
    const metrics = new ProxyMetrics();
    const listener = new ListenerMetrics(metrics, 'plain');
    listener.requestTaken(0);
    listener.requestTaken(0);
    listener.requestTaken(3);
    listener.requestTaken(-1);
    listener.requestTaken(4000);
    expect(await series(metrics, 'kafka_proxy_requests_total')).toEqual([
      'kafka_proxy_requests_total{listener="plain",api="Produce"} 2',
      'kafka_proxy_requests_total{listener="plain",api="Metadata"} 1',
      'kafka_proxy_requests_total{listener="plain",api="unknown"} 2',
    ]);
  });

  it('counts decisions by API, outcome and mode', async () => {
    const metrics = new ProxyMetrics();
    const listener = new ListenerMetrics(metrics, 'secure');
    listener.decided(0, 'allowed', 'enforce');
    listener.decided(0, 'partial', 'enforce');
    listener.decided(0, 'partial', 'enforce');
    listener.decided(1, 'denied', 'audit');
    expect(await series(metrics, 'kafka_proxy_authorization_decisions_total')).toEqual([
      'kafka_proxy_authorization_decisions_total{listener="secure",api="Produce",outcome="allowed",mode="enforce"} 1',
      'kafka_proxy_authorization_decisions_total{listener="secure",api="Produce",outcome="partial",mode="enforce"} 2',
      'kafka_proxy_authorization_decisions_total{listener="secure",api="Fetch",outcome="denied",mode="audit"} 1',
    ]);
  });

  it('counts an expired session among closed connections and among expired sessions', async () => {
    const metrics = new ProxyMetrics();
    const listener = new ListenerMetrics(metrics, 'secure');
    listener.connectionClosed('session-expired');
    listener.connectionClosed('client-closed');
    expect(await series(metrics, 'kafka_proxy_sessions_expired_total')).toEqual(['kafka_proxy_sessions_expired_total{listener="secure"} 1']);
    expect(await series(metrics, 'kafka_proxy_connections_closed_total')).toEqual([
      'kafka_proxy_connections_closed_total{listener="secure",reason="session-expired"} 1',
      'kafka_proxy_connections_closed_total{listener="secure",reason="client-closed"} 1',
    ]);
  });

  it('counts a failed re-authentication as an attempt, a failure and a re-authentication, without a mechanism the client was not offered', async () => {
    const metrics = new ProxyMetrics();
    const listener = new ListenerMetrics(metrics, 'secure');
    listener.authenticationFailed('OAUTHBEARER', 'expired', true);
    listener.authenticationFailed(undefined, 'unsupported-mechanism', false);
    expect(await series(metrics, 'kafka_proxy_authentication_attempts_total')).toEqual([
      'kafka_proxy_authentication_attempts_total{listener="secure",mechanism="OAUTHBEARER",outcome="failure"} 1',
      'kafka_proxy_authentication_attempts_total{listener="secure",mechanism="none",outcome="failure"} 1',
    ]);
    expect(await series(metrics, 'kafka_proxy_reauthentications_total')).toEqual(['kafka_proxy_reauthentications_total{listener="secure",mechanism="OAUTHBEARER",outcome="failure"} 1']);
    expect(await series(metrics, 'kafka_proxy_authentication_failures_total')).toEqual([
      'kafka_proxy_authentication_failures_total{listener="secure",mechanism="OAUTHBEARER",reason="expired"} 1',
      'kafka_proxy_authentication_failures_total{listener="secure",mechanism="none",reason="unsupported-mechanism"} 1',
    ]);
  });
});

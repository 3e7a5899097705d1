import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closeClassOf } from '../../src/proxy/close-class.js';

/**
 * The literal start of every reason a session is closed with in a file (what precedes a `${` in a
 * template): the string passed to close() and closeAfterOwed(), and the reason, the last string,
 * passed to the helpers that close with it.
 */
function closeReasons(file: string): string[] {
  const source = readFileSync(new URL(`../../src/proxy/${file}`, import.meta.url), 'utf8');
  const reasons: string[] = [];
  for (const [, call, rest] of source.matchAll(/\b(close|closeAfterOwed|evictable|holdInBudget)\((.*)$/gm)) {
    const literals = [...rest.matchAll(/'([^']*)'|`([^`]*)`/g)].map(([, quoted, template]) => (quoted ?? template).split('${')[0]);
    const reason = call === 'close' || call === 'closeAfterOwed' ? literals[0] : literals.at(-1);
    if (reason !== undefined) reasons.push(reason);
  }
  return reasons;
}

describe('close reason classes (kafka_proxy_connections_closed_total)', () => {
  it.each([
    ['client closed the connection', 'client-closed'],
    ['client connection failed: read ECONNRESET', 'client-closed'],
    ['broker closed the connection', 'broker-closed'],
    ['broker connection failed: ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: sslv3 alert handshake failure', 'broker-closed'],
    ['no broker reachable (last tried 10.0.0.1:9092: connect timeout)', 'broker-unreachable'],
    ['unknown broker', 'broker-unreachable'],
    ['idle timeout', 'idle-timeout'],
    ['malformed request', 'malformed-request'],
    ['unsupported request', 'unsupported-request'],
    ['authentication failed', 'authentication-failed'],
    ['not authenticated within authenticationTimeoutMs (10000 ms)', 'authentication-timeout'],
    ['session expired', 'session-expired'],
    ['session revoked', 'revoked'],
    ['evicted: holds the most of the held-response budget', 'limit'],
    ['request buffer budget exhausted', 'limit'],
    ['proxy shutting down', 'shutdown'],
    ['shutdown grace period over', 'shutdown'],
    ['internal error', 'error'],
    ['broker response refused', 'error'],
  ])('%s -> %s', (reason, expected) => {
    expect(closeClassOf(reason)).toBe(expected);
  });

  it('puts a reason it does not know under other, also one named like an object property', () => {
    expect(closeClassOf('the moon fell')).toBe('other');
    expect(closeClassOf('toString')).toBe('other');
    expect(closeClassOf('')).toBe('other');
  });

  it('knows every reason the session and the listener close with', () => {
    const reasons = [...closeReasons('client-session.ts'), ...closeReasons('listener.ts')];
    // Guards against a pattern that finds nothing, which would pass vacuously.
    expect(reasons).toContain('idle timeout');
    expect(reasons).toContain('not authenticated within authenticationTimeoutMs (');
    expect(reasons.length).toBeGreaterThan(20);
    expect(reasons.filter((r) => closeClassOf(r) === 'other')).toEqual([]);
  });
});

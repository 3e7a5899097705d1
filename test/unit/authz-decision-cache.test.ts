import { describe, expect, it, vi } from 'vitest';
import { compilePolicy } from '../../src/authz/compiled-policy.js';
import { DecisionCache } from '../../src/authz/decision-cache.js';
import { parsePolicy } from '../../src/authz/policy-file.js';

const compile = (text: string) => compilePolicy(parsePolicy(text, 'policy.yaml'));
const before = compile('roles:\n  r:\n    - { topics: ["orders-*"], operations: [read] }\n');
const after = compile('roles:\n  r:\n    - { topics: ["payments"], operations: [read] }\n');

describe('DecisionCache', () => {
  it('answers as the grants do, asking them once per (kind, operation, name)', () => {
    const grants = before.grantsFor('p', ['r']);
    const allows = vi.spyOn(grants, 'allows');
    const cache = new DecisionCache(grants);
    for (let i = 0; i < 3; i++) {
      expect(cache.allows('topic', 'orders-1', 'read')).toBe(true);
      expect(cache.allows('topic', 'orders-1', 'describe')).toBe(true);
      expect(cache.allows('topic', 'payments', 'read')).toBe(false);
      expect(cache.allows('group', 'orders-1', 'read')).toBe(false);
    }
    expect(allows).toHaveBeenCalledTimes(4);
  });

  it('keeps one decision for the cluster whatever the name', () => {
    const grants = compile('roles:\n  r:\n    - { cluster: true, operations: [idempotent-write] }\n').grantsFor('p', ['r']);
    const allows = vi.spyOn(grants, 'allows');
    const cache = new DecisionCache(grants);
    expect(cache.allows('cluster', '', 'idempotent-write')).toBe(true);
    expect(cache.allows('cluster', 'kafka-cluster', 'idempotent-write')).toBe(true);
    expect(allows).toHaveBeenCalledTimes(1);
  });

  it('is bounded: least recently used decisions go first, long names are not kept', () => {
    const grants = before.grantsFor('p', ['r']);
    const allows = vi.spyOn(grants, 'allows');
    const cache = new DecisionCache(grants, 2);
    cache.allows('topic', 'a', 'read');
    cache.allows('topic', 'b', 'read');
    cache.allows('topic', 'a', 'read');
    cache.allows('topic', 'c', 'read'); // evicts b
    expect(allows).toHaveBeenCalledTimes(3);
    cache.allows('topic', 'a', 'read');
    cache.allows('topic', 'b', 'read');
    expect(allows).toHaveBeenCalledTimes(4);

    const long = `orders-${'x'.repeat(300)}`;
    expect(cache.allows('topic', long, 'read')).toBe(true);
    expect(cache.allows('topic', long, 'read')).toBe(true);
    expect(allows).toHaveBeenCalledTimes(6);
  });

  it('clear forgets every decision and decides with the new grants', () => {
    const cache = new DecisionCache(before.grantsFor('p', ['r']));
    expect(cache.allows('topic', 'orders-1', 'read')).toBe(true);
    expect(cache.allows('topic', 'payments', 'read')).toBe(false);
    const next = after.grantsFor('p', ['r']);
    cache.clear(next);
    expect(cache.grants).toBe(next);
    expect(cache.allows('topic', 'orders-1', 'read')).toBe(false);
    expect(cache.allows('topic', 'payments', 'read')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { RolesCache, type RolesCacheEvents, type RolesCacheSettings } from '../../src/roles/roles-cache.js';
import { RolesRequestError } from '../../src/roles/roles-client.js';

const SETTINGS: RolesCacheSettings = {
  ttlMs: 60_000,
  maxConcurrentRequests: 2,
  maxPrincipals: 100,
  breaker: { failurePercentage: 50, minimumRequests: 4, windowMs: 10_000, openMs: 30_000 },
};

/** A permissions service in memory: answers from `roles`, or fails while `down`; counts requests per principal. */
function service() {
  const s = {
    roles: new Map<string, string[]>(),
    down: false,
    requests: new Map<string, number>(),
    inFlight: 0,
    maxInFlight: 0,
    gate: Promise.resolve(),
    async fetch(principal: string): Promise<string[]> {
      s.requests.set(principal, (s.requests.get(principal) ?? 0) + 1);
      s.maxInFlight = Math.max(s.maxInFlight, ++s.inFlight);
      try {
        await s.gate;
        if (s.down) throw new RolesRequestError('server-error', 'HTTP 500');
        return s.roles.get(principal) ?? [];
      } finally {
        s.inFlight--;
      }
    },
  };
  return s;
}

function events() {
  const seen = { requested: [] as string[], looked: [] as string[], breaker: [] as string[] };
  const e: RolesCacheEvents = {
    requested: (outcome) => seen.requested.push(outcome),
    looked: (result) => seen.looked.push(result),
    breaker: (state) => seen.breaker.push(state),
  };
  return { seen, e };
}

describe('RolesCache', () => {
  it('answers from the cache within the TTL, and asks again after it', async () => {
    const svc = service();
    svc.roles.set('alice', ['writer', 'reader', 'writer']);
    let now = 0;
    const { seen, e } = events();
    const cache = new RolesCache(svc.fetch, SETTINGS, e, () => now, () => 0.5);
    expect(await cache.lookup('alice')).toMatchObject({ kind: 'fresh', roles: ['reader', 'writer'] });
    now = 10_000;
    expect(await cache.lookup('alice')).toMatchObject({ kind: 'fresh', roles: ['reader', 'writer'] });
    expect(svc.requests.get('alice')).toBe(1);
    now = 61_000;
    svc.roles.set('alice', ['reader']);
    expect(await cache.lookup('alice')).toMatchObject({ kind: 'fresh', roles: ['reader'] });
    expect(svc.requests.get('alice')).toBe(2);
    expect(seen.looked).toEqual(['miss', 'hit', 'stale']);
    cache.shutdown();
  });

  it('sends one request per principal however many sessions ask at once, and at most maxConcurrentRequests in all', async () => {
    const svc = service();
    let open: () => void = () => {};
    svc.gate = new Promise<void>((resolve) => (open = resolve));
    const { e } = events();
    const cache = new RolesCache(svc.fetch, SETTINGS, e);
    const principals = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const lookups = principals.flatMap((p) => Array.from({ length: 10 }, () => cache.lookup(p)));
    await new Promise((r) => setTimeout(r, 10));
    open();
    const states = await Promise.all(lookups);
    expect(states.every((s) => s.kind === 'fresh')).toBe(true);
    expect([...svc.requests.values()]).toEqual(Array(10).fill(1));
    expect(svc.maxInFlight).toBe(SETTINGS.maxConcurrentRequests);
    cache.shutdown();
  });

  it('refreshes a principal in use ahead of its TTL, and the version changes only when the roles do', async () => {
    const svc = service();
    svc.roles.set('alice', ['a']);
    let now = 0;
    const { e } = events();
    const cache = new RolesCache(svc.fetch, SETTINGS, e, () => now, () => 0.5);
    const first = await cache.lookup('alice');
    // Refresh is due at 70-90% of the TTL: here 48 s.
    now = 47_000;
    cache.peek('alice');
    expect(svc.requests.get('alice')).toBe(1);
    now = 48_000;
    cache.peek('alice');
    await new Promise((r) => setTimeout(r, 0));
    expect(svc.requests.get('alice')).toBe(2);
    const same = cache.peek('alice');
    expect(same).toMatchObject({ fetchedAt: 48_000, version: (first as { version: number }).version });
    svc.roles.set('alice', ['a', 'b']);
    now = 100_000;
    cache.peek('alice');
    await new Promise((r) => setTimeout(r, 0));
    const changed = cache.peek('alice');
    expect(changed).toMatchObject({ fetchedAt: 100_000, roles: ['a', 'b'] });
    expect((changed as { version: number }).version).not.toBe((first as { version: number }).version);
    cache.shutdown();
  });

  it('serves the last roles as stale while the service fails, and unknown for principals it never answered', async () => {
    const svc = service();
    svc.roles.set('alice', ['a']);
    let now = 0;
    const { seen, e } = events();
    const cache = new RolesCache(svc.fetch, SETTINGS, e, () => now);
    await cache.lookup('alice');
    svc.down = true;
    now = 120_000;
    expect(await cache.lookup('alice')).toMatchObject({ kind: 'stale', roles: ['a'], fetchedAt: 0 });
    expect(await cache.lookup('bob')).toEqual({ kind: 'unknown', failure: 'server-error' });
    expect(seen.requested).toEqual(['success', 'server-error', 'server-error']);
    // A failed principal is not asked again at once by every request.
    const asked = svc.requests.get('alice');
    cache.peek('alice');
    expect(svc.requests.get('alice')).toBe(asked);
    cache.shutdown();
  });

  it('opens the breaker after repeated failures: no request reaches the service until it half-opens', async () => {
    const svc = service();
    svc.down = true;
    const { seen, e } = events();
    const cache = new RolesCache(svc.fetch, { ...SETTINGS, breaker: { ...SETTINGS.breaker, openMs: 50 } }, e);
    for (let i = 0; i < 4; i++) await cache.lookup(`p${i}`);
    expect(cache.breakerState).toBe('open');
    const sent = [...svc.requests.values()].reduce((a, b) => a + b, 0);
    expect(await cache.lookup('p9')).toEqual({ kind: 'unknown', failure: 'breaker-open' });
    expect([...svc.requests.values()].reduce((a, b) => a + b, 0)).toBe(sent);
    svc.down = false;
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.lookup('p9')).toMatchObject({ kind: 'fresh' });
    expect(cache.breakerState).toBe('closed');
    expect(seen.breaker).toEqual(['open', 'half-open', 'closed']);
    cache.shutdown();
  });

  it('restores a snapshot as last-known roles, refreshed at first use', async () => {
    const svc = service();
    svc.down = true;
    let now = 1_000_000;
    const { e } = events();
    const cache = new RolesCache(svc.fetch, SETTINGS, e, () => now);
    cache.restore([{ principal: 'alice', roles: ['a'], fetchedAt: 900_000 }]);
    expect(await cache.lookup('alice')).toMatchObject({ kind: 'stale', roles: ['a'], fetchedAt: 900_000 });
    svc.down = false;
    svc.roles.set('alice', ['b']);
    now += 10_000;
    expect(await cache.lookup('alice')).toMatchObject({ kind: 'fresh', roles: ['b'] });
    expect(cache.snapshot()).toEqual([{ principal: 'alice', roles: ['b'], fetchedAt: now }]);
    cache.shutdown();
  });
});

import { LRUCache } from 'lru-cache';
import CircuitBreaker from 'opossum';
import pLimit, { type LimitFunction } from 'p-limit';
import { type RolesFailure, RolesRequestError } from './roles-client.js';

/** What the cache knows of a principal's roles. `version` changes whenever the roles do. */
export type RolesState =
  | { kind: 'fresh'; roles: readonly string[]; version: number; fetchedAt: number }
  /** Past its TTL and not refreshed (the service is failing): the last roles it gave. */
  | { kind: 'stale'; roles: readonly string[]; version: number; fetchedAt: number }
  /** Never fetched (or forgotten), and the service does not answer. */
  | { kind: 'unknown'; failure: RolesFailure };

export interface RolesCacheSettings {
  ttlMs: number;
  /** Requests to the service at once; more wait their turn. */
  maxConcurrentRequests: number;
  /** Principals held (least recently used ones go first). */
  maxPrincipals: number;
  breaker: { failurePercentage: number; minimumRequests: number; windowMs: number; openMs: number };
}

export interface RolesCacheEvents {
  requested(outcome: 'success' | RolesFailure, seconds: number): void;
  looked(result: 'hit' | 'miss' | 'stale'): void;
  breaker(state: 'closed' | 'open' | 'half-open'): void;
}

/** A principal's roles as the service last gave them; `version` changes whenever they do. */
export interface CachedRoles {
  roles: readonly string[];
  version: number;
  fetchedAt: number;
}

interface Entry extends CachedRoles {
  /** When a session's request starts a refresh: a random point in the last 10-30% of the TTL. */
  refreshAt: number;
  /** No refresh before this after a failure, so sessions of a principal do not hammer a failing service. */
  retryAt: number;
}

/** A snapshot line: enough to serve last-known roles after a restart. */
export interface SnapshotEntry {
  principal: string;
  roles: string[];
  fetchedAt: number;
}

/**
 * Principals' roles from the permissions service: cached for the TTL and refreshed ahead of it
 * at a jittered point while sessions use them, one request per principal at a time, at most
 * `maxConcurrentRequests` at once, and none while the circuit breaker is open after repeated
 * failures. Never throws to its callers: a failure is a state.
 */
export class RolesCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly inFlight = new Map<string, Promise<RolesState>>();
  private readonly limit: LimitFunction;
  private readonly breaker: CircuitBreaker<[string], string[]>;
  private versions = 0;

  constructor(
    fetchRoles: (principal: string) => Promise<string[]>,
    private readonly settings: RolesCacheSettings,
    private readonly events: RolesCacheEvents,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.entries = new LRUCache({ max: settings.maxPrincipals });
    this.limit = pLimit(settings.maxConcurrentRequests);
    const { failurePercentage, minimumRequests, windowMs, openMs } = settings.breaker;
    this.breaker = new CircuitBreaker(fetchRoles, {
      // The client has its own deadline; the breaker only counts.
      timeout: false,
      errorThresholdPercentage: failurePercentage,
      volumeThreshold: minimumRequests,
      rollingCountTimeout: windowMs,
      resetTimeout: openMs,
    });
    this.breaker.on('open', () => events.breaker('open'));
    this.breaker.on('halfOpen', () => events.breaker('half-open'));
    this.breaker.on('close', () => events.breaker('closed'));
  }

  get breakerState(): 'closed' | 'open' | 'half-open' {
    return this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** For a new session: the cached roles if within the TTL, else waits for the service's answer. */
  async lookup(principal: string): Promise<RolesState> {
    const entry = this.entries.get(principal);
    const now = this.now();
    if (entry && now < entry.fetchedAt + this.settings.ttlMs) {
      this.events.looked('hit');
      if (now >= entry.refreshAt && now >= entry.retryAt) void this.fetch(principal);
      return { kind: 'fresh', roles: entry.roles, version: entry.version, fetchedAt: entry.fetchedAt };
    }
    this.events.looked(entry ? 'stale' : 'miss');
    return this.fetch(principal);
  }

  /**
   * For each request of a live session: what is cached now (undefined: nothing), without waiting
   * or allocating; starts a refresh when one is due, whose answer a later request sees.
   */
  peek(principal: string): Readonly<CachedRoles> | undefined {
    const entry = this.entries.get(principal);
    const now = this.now();
    if (!entry) void this.fetch(principal);
    else if (now >= entry.refreshAt && now >= entry.retryAt) void this.fetch(principal);
    return entry;
  }

  /** What a snapshot file keeps. */
  snapshot(): SnapshotEntry[] {
    return [...this.entries.entries()].map(([principal, e]) => ({ principal, roles: [...e.roles], fetchedAt: e.fetchedAt }));
  }

  /** Entries from a snapshot, for principals not fetched since: served as last known (and refreshed at first use). */
  restore(entries: readonly SnapshotEntry[]): void {
    for (const { principal, roles, fetchedAt } of entries) {
      if (this.entries.has(principal)) continue;
      this.entries.set(principal, { roles, version: ++this.versions, fetchedAt, refreshAt: fetchedAt, retryAt: 0 });
    }
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private fetch(principal: string): Promise<RolesState> {
    let pending = this.inFlight.get(principal);
    if (!pending) {
      pending = this.limit(() => this.request(principal)).finally(() => this.inFlight.delete(principal));
      this.inFlight.set(principal, pending);
    }
    return pending;
  }

  private async request(principal: string): Promise<RolesState> {
    const started = performance.now();
    try {
      const roles = await this.breaker.fire(principal);
      this.events.requested('success', (performance.now() - started) / 1000);
      return this.store(principal, roles);
    } catch (e) {
      const failure = failureOf(e);
      // A breaker that is open sent nothing: not a request to time.
      if (failure !== 'breaker-open') this.events.requested(failure, (performance.now() - started) / 1000);
      const entry = this.entries.get(principal);
      if (!entry) return { kind: 'unknown', failure };
      entry.retryAt = this.now() + Math.min(5_000, this.settings.ttlMs / 4);
      const kind = this.now() < entry.fetchedAt + this.settings.ttlMs ? 'fresh' : 'stale';
      return { kind, roles: entry.roles, version: entry.version, fetchedAt: entry.fetchedAt };
    }
  }

  private store(principal: string, answered: string[]): RolesState {
    // In one order, once each: a service that shuffles its answer has not changed the roles.
    const roles = [...new Set(answered)].sort();
    const now = this.now();
    const before = this.entries.get(principal);
    const same = before !== undefined && before.roles.length === roles.length && before.roles.every((r, i) => r === roles[i]);
    const version = same ? before.version : ++this.versions;
    const refreshAt = now + this.settings.ttlMs * (0.7 + 0.2 * this.random());
    this.entries.set(principal, { roles, version, fetchedAt: now, refreshAt, retryAt: 0 });
    return { kind: 'fresh', roles, version, fetchedAt: now };
  }
}

function failureOf(e: unknown): RolesFailure {
  if (e instanceof RolesRequestError) return e.failure;
  if ((e as { code?: string }).code === 'EOPENBREAKER') return 'breaker-open';
  return 'unreachable';
}

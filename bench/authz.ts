import { compilePolicy, type PrincipalGrants } from '../src/authz/compiled-policy.js';
import { DecisionCache } from '../src/authz/decision-cache.js';
import type { Grant, Policy } from '../src/authz/policy-file.js';
import { measureAllocation, measureRate } from './measure.js';

const ROLES = 200;
const GRANTS_PER_ROLE = 50;
/** The principal's roles: every tenth, half bound to it in the policy and half carried by its token. */
const PRINCIPAL_ROLES = Array.from({ length: ROLES / 10 }, (_, i) => `team${i * 10}`);
/** Names cycled through per case: a power of two, and as many as one session's cache holds. */
const NAMES = 1024;

export interface AuthzBenchRow {
  name: string;
  uncachedPerSecond: number;
  uncachedBytesAllocated: number;
  cachedPerSecond: number;
  cachedBytesAllocated: number;
}

export interface AuthzBenchResult {
  grants: number;
  roles: number;
  principalRoles: number;
  /** Prefixes the principal's topic-read matcher holds (a trie beyond a few). */
  principalPrefixes: number;
  compileMs: number;
  grantsForMs: number;
  /** Heap taken by one session's DecisionCache after its first decision (lru-cache allocates its slots then, all at once). */
  cacheBytes: number;
  rows: AuthzBenchRow[];
}

/** Every fourth grant of a team is a prefix ("team7.stream12.*"), the rest exact topic names ("team7.topic13"). */
const isPrefixGrant = (g: number) => g % 4 === 0;

function syntheticPolicy(): Policy {
  const roles = new Map<string, Grant[]>();
  for (let r = 0; r < ROLES; r++) {
    const grants: Grant[] = [];
    for (let g = 0; g < GRANTS_PER_ROLE; g++) {
      const pattern = isPrefixGrant(g) ? `team${r}.stream${g}.*` : `team${r}.topic${g}`;
      grants.push({ kind: 'topic', patterns: [pattern], operations: g % 2 ? ['read'] : ['read', 'write'] });
    }
    roles.set(`team${r}`, grants);
  }
  const bound = PRINCIPAL_ROLES.filter((_, i) => i % 2 === 0);
  return { roles, bindings: new Map([['svc-bench', bound]]) };
}

/** Decoded from bytes as the request decoder does: flat strings (a concatenated one is slower to compare). */
const decoded = (name: string) => Buffer.from(name).toString('utf8');

/** NAMES names built from (team, grant) pairs of the principal's own teams (`mine`) or of the others. */
function names(make: (team: number, g: number, i: number) => string, mine: boolean, grants: (g: number) => boolean): string[] {
  const teams = Array.from({ length: ROLES }, (_, r) => r).filter((r) => (r % 10 === 0) === mine);
  const gs = Array.from({ length: GRANTS_PER_ROLE }, (_, g) => g).filter(grants);
  return Array.from({ length: NAMES }, (_, i) => decoded(make(teams[i % teams.length], gs[Math.floor(i / teams.length) % gs.length], i)));
}

const CASES: [string, string[], boolean][] = [
  ['hit, exact name', names((r, g) => `team${r}.topic${g}`, true, (g) => !isPrefixGrant(g)), true],
  ['hit, prefix', names((r, g, i) => `team${r}.stream${g}.events-${i}`, true, isPrefixGrant), true],
  ['miss, another team', names((r, g) => `team${r}.topic${g}`, false, () => true), false],
  ['miss, own team, unknown topic', names((r, g) => `team${r}.topic${g}-archive`, true, () => true), false],
];

/** One decision per call, cycling through the names, so the measured loop is the same for both paths. */
function decider(names: string[], allows: (name: string) => boolean): () => void {
  let i = 0;
  return () => {
    allows(names[i++ & (NAMES - 1)]);
  };
}

function check(grants: PrincipalGrants, name: string, names: string[], expected: boolean): void {
  const wrong = names.find((n) => grants.allows('topic', n, 'read') !== expected);
  if (wrong !== undefined) throw new Error(`${name}: ${wrong} was ${expected ? 'denied' : 'allowed'}: the benchmark would measure the wrong path`);
}

/**
 * `allows` decisions per second on one core for a policy of 10,000 topic grants in 200 roles,
 * for a principal with 20 of them (~1,000 grants), with and without the per-session cache.
 */
export async function runAuthzBench(progress: (line: string) => void): Promise<AuthzBenchResult> {
  const policyData = syntheticPolicy();
  progress('authz: compiling ...');
  let t = performance.now();
  const policy = compilePolicy(policyData);
  const compileMs = performance.now() - t;
  const tokenRoles = PRINCIPAL_ROLES.filter((_, i) => i % 2 === 1);
  const rounds = 20;
  t = performance.now();
  // Distinct principals: later connections of one principal share its grants and cost nothing here.
  for (let i = 0; i < rounds; i++) policy.grantsFor(`svc-bench-${i}`, tokenRoles);
  const grantsForMs = (performance.now() - t) / rounds;
  const grants = policy.grantsFor('svc-bench', tokenRoles);
  if (grants.roles.length !== PRINCIPAL_ROLES.length) throw new Error(`the principal has ${grants.roles.length} roles, expected ${PRINCIPAL_ROLES.length}`);

  const rows: AuthzBenchRow[] = [];
  for (const [name, caseNames, expected] of CASES) {
    check(grants, name, caseNames, expected);
    progress(`authz: ${name} ...`);
    const uncached = decider(caseNames, (n) => grants.allows('topic', n, 'read'));
    const cache = new DecisionCache(grants, NAMES);
    const cached = decider(caseNames, (n) => cache.allows('topic', n, 'read'));
    rows.push({
      name,
      uncachedPerSecond: Math.round(measureRate(uncached).opsPerSecond),
      uncachedBytesAllocated: Math.round(await measureAllocation(uncached)),
      cachedPerSecond: Math.round(measureRate(cached).opsPerSecond),
      cachedBytesAllocated: Math.round(await measureAllocation(cached)),
    });
  }
  return {
    grants: ROLES * GRANTS_PER_ROLE,
    roles: ROLES,
    principalRoles: grants.roles.length,
    principalPrefixes: PRINCIPAL_ROLES.length * Array.from({ length: GRANTS_PER_ROLE }, (_, g) => g).filter(isPrefixGrant).length,
    compileMs: round(compileMs),
    grantsForMs: round(grantsForMs),
    cacheBytes: Math.round(
      await measureAllocation(() => {
        const cache = new DecisionCache(grants);
        cache.allows('topic', 'first', 'read');
        return cache;
      }, 1000),
    ),
    rows,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

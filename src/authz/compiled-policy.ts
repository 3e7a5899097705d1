import { LRUCache } from 'lru-cache';
import { impliedOperations, type Operation, type ResourceKind } from './operations.js';
import type { Policy } from './policy-file.js';
import { PrefixSet } from './prefix-set.js';

/** Patterns a role allows one operation on, implications already applied. */
interface Allowance {
  kind: ResourceKind;
  op: Operation;
  patterns: readonly string[];
}

/** The names one (kind, operation) is allowed on: exact names, prefixes, or everything. */
class NameMatcher {
  private readonly exact = new Set<string>();
  private readonly prefixes: PrefixSet | undefined;
  private readonly any: boolean;

  constructor(patterns: readonly string[]) {
    this.any = patterns.includes('*');
    const prefixes: string[] = [];
    for (const p of patterns) {
      if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
    this.prefixes = prefixes.length && !this.any ? new PrefixSet(prefixes) : undefined;
  }

  matches(name: string): boolean {
    return this.any || this.exact.has(name) || (this.prefixes !== undefined && this.prefixes.matches(name));
  }
}

/** What one authenticated principal may do: the union of its roles' grants, merged per (kind, operation). */
export class PrincipalGrants {
  private readonly matchers = new Map<ResourceKind, Map<Operation, NameMatcher>>();

  constructor(
    readonly principal: string,
    /** The roles in effect: from the credential and from bindings, known to the policy. */
    readonly roles: readonly string[],
    /** Roles the credential carried that the policy does not define (worth a debug line: often a typo). */
    readonly ignoredRoles: readonly string[],
    allowances: readonly Allowance[],
  ) {
    const patterns = new Map<ResourceKind, Map<Operation, string[]>>();
    for (const { kind, op, patterns: ps } of allowances) {
      const byOp = patterns.get(kind) ?? patterns.set(kind, new Map()).get(kind)!;
      const list = byOp.get(op) ?? byOp.set(op, []).get(op)!;
      for (const p of ps) list.push(p);
    }
    for (const [kind, byOp] of patterns) {
      this.matchers.set(kind, new Map([...byOp].map(([op, list]) => [op, new NameMatcher(list)])));
    }
  }

  /** Default deny: true only if some grant covers `name` (ignored for the cluster) with `op` or an operation implying it. */
  allows(kind: ResourceKind, name: string, op: Operation): boolean {
    const matcher = this.matchers.get(kind)?.get(op);
    return matcher !== undefined && matcher.matches(name);
  }

  /** Whether `op` is allowed on at least one name of the kind (Kafka lets an idempotent producer in with Write on any topic). */
  allowsAny(kind: ResourceKind, op: Operation): boolean {
    return this.matchers.get(kind)?.has(op) ?? false;
  }
}

export class CompiledPolicy {
  private readonly roles = new Map<string, Allowance[]>();
  /** Grants by principal and credential roles; bounded, as both come from clients' credentials. */
  private readonly compiled = new LRUCache<string, PrincipalGrants>({ max: 10_000 });
  private readonly bindings: ReadonlyMap<string, readonly string[]>;

  constructor(policy: Policy) {
    for (const [role, grants] of policy.roles) {
      const allowances: Allowance[] = [];
      for (const grant of grants) {
        // The cluster is one resource: its grants match any name.
        const patterns = grant.kind === 'cluster' ? ['*'] : grant.patterns;
        const ops = new Set(grant.operations.flatMap((op) => impliedOperations(grant.kind, op)));
        for (const op of ops) allowances.push({ kind: grant.kind, op, patterns });
      }
      this.roles.set(role, allowances);
    }
    this.bindings = policy.bindings;
  }

  get roleCount(): number {
    return this.roles.size;
  }

  get bindingCount(): number {
    return this.bindings.size;
  }

  /**
   * The grants of a principal with the roles its credential carries plus those bound to it;
   * unknown role names are ignored. Connections of one principal share one compiled set.
   */
  grantsFor(principal: string, credentialRoles: readonly string[]): PrincipalGrants {
    // JSON: no principal or role name can pass for a separator, whatever characters it holds.
    const key = JSON.stringify([principal, ...credentialRoles]);
    let grants = this.compiled.get(key);
    if (!grants) {
      grants = this.compileGrants(principal, credentialRoles);
      this.compiled.set(key, grants);
    }
    return grants;
  }

  private compileGrants(principal: string, credentialRoles: readonly string[]): PrincipalGrants {
    const roles = new Set(this.bindings.get(principal));
    const ignored = new Set<string>();
    for (const role of credentialRoles) (this.roles.has(role) ? roles : ignored).add(role);
    const allowances = [...roles].flatMap((role) => this.roles.get(role)!);
    return new PrincipalGrants(principal, [...roles], [...ignored], allowances);
  }
}

export function compilePolicy(policy: Policy): CompiledPolicy {
  return new CompiledPolicy(policy);
}

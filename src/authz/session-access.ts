import type { CompiledPolicy, PrincipalGrants } from './compiled-policy.js';
import { DecisionCache } from './decision-cache.js';
import type { DenialLog, EnforcementMode } from './denial-log.js';
import type { Operation, ResourceKind } from './operations.js';

/** Who is asking, for the denial log. */
export interface Requester {
  listener: string;
  principal: string;
  roles: readonly string[];
  clientAddress: string;
  clientId: string | null;
}

/**
 * One connection's view of the policy: decisions for its principal, cached, and recorded when
 * they deny. In audit mode every check passes and would-be denials are recorded instead, so a
 * team can see what enforcement would break before it is switched on.
 */
export class SessionAccess {
  private readonly cache: DecisionCache;
  /** The API of the request being decided, for the denial log. */
  api = '';

  constructor(
    readonly mode: EnforcementMode,
    private readonly requester: Requester,
    policy: CompiledPolicy,
    private readonly denials: DenialLog,
  ) {
    this.cache = new DecisionCache(policy.grantsFor(requester.principal, requester.roles));
  }

  get principal(): string {
    return this.requester.principal;
  }

  /** The principal's grants as the policy states them (audit mode does not widen them): for authorizedOperations fields. */
  get grants(): PrincipalGrants {
    return this.cache.grants;
  }

  /** Whether the request may go ahead for this entity; a denial is logged and counted. */
  check(kind: ResourceKind, name: string, op: Operation): boolean {
    if (this.cache.allows(kind, name, op)) return true;
    this.denials.record({ ...this.requester, mode: this.mode, api: this.api, kind, name, operation: op });
    return this.mode === 'audit';
  }

  /** Requests that are never a client's to make (broker-to-broker traffic): refused in every mode, and logged. */
  refuse(kind: ResourceKind, name: string, op: Operation | 'cluster-action'): void {
    this.denials.record({ ...this.requester, mode: 'enforce', api: this.api, kind, name, operation: op });
  }

  /** The policy's answer, without logging and without audit mode's leniency: for deciding early that nothing is denied. */
  allows(kind: ResourceKind, name: string, op: Operation): boolean {
    return this.cache.allows(kind, name, op);
  }

  /** Decides without logging: for listings that silently leave out what the principal may not see, as Kafka does. */
  permits(kind: ResourceKind, name: string, op: Operation): boolean {
    return this.mode === 'audit' || this.cache.allows(kind, name, op);
  }

  /** A new policy or a new credential: decide with fresh grants and forget cached decisions. */
  update(policy: CompiledPolicy, principal = this.requester.principal, roles = this.requester.roles): void {
    this.requester.principal = principal;
    this.requester.roles = roles;
    this.cache.clear(policy.grantsFor(principal, roles));
  }

  set clientId(id: string | null) {
    this.requester.clientId = id;
  }
}

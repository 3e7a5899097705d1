import type { AccessRecorder, IdentityRecorder } from '../migration/access-recorder.js';
import type { CompiledPolicy, PrincipalGrants } from './compiled-policy.js';
import { DecisionCache } from './decision-cache.js';
import type { DenialLog, EnforcementMode, Requester as LoggedRequester } from './denial-log.js';
import type { Operation, ResourceKind } from './operations.js';
import { type DeniedOperation, RequestDenials } from './request-denials.js';

/** What the policy made of one request: nothing denied, every entity denied, or some of them. */
export type AuthorizationOutcome = 'allowed' | 'denied' | 'partial';

/** Who is asking: the denial log's fields, and the roles the grants come from. */
export interface Requester extends LoggedRequester {
  roles: readonly string[];
}

/**
 * One connection's view of the policy: decisions for its principal, cached, and recorded when
 * they deny. In audit mode every check passes and would-be denials are recorded instead, so a
 * team can see what enforcement would break before it is switched on.
 */
export class SessionAccess {
  private readonly cache: DecisionCache;
  /** The API of the request being decided, for the denial log. */
  private api = '';
  /** Between beginRequest and endRequest: denials are gathered into one line. */
  private inRequest = false;
  /** The current request's denials; made on its first denial, so allowed requests allocate nothing. */
  private pending: RequestDenials | undefined;
  /** Checks the policy allowed in the current request: with denials beside them, it was allowed in part. */
  private allowedInRequest = 0;
  /** Where this session's uses are recorded, while its listener (or its principal's mode) records access. */
  private recorder: AccessRecorder | undefined;
  /** This session's identity in the access recorder; looked up again when the principal or client id changes. */
  private recorded: IdentityRecorder | undefined;

  /** Counts the changes that may change a decision (a policy, a credential, roles, the mode): state built on decisions compares it. */
  private changes = 0;

  constructor(
    /** The listener's mode; a reload that switches it updates live sessions. */
    private enforcement: EnforcementMode,
    private readonly requester: Requester,
    policy: CompiledPolicy,
    private readonly denials: DenialLog,
  ) {
    this.cache = new DecisionCache(policy.grantsFor(requester.principal, requester.roles));
  }

  get principal(): string {
    return this.requester.principal;
  }

  get mode(): EnforcementMode {
    return this.enforcement;
  }

  set mode(mode: EnforcementMode) {
    if (mode !== this.enforcement) this.changes++;
    this.enforcement = mode;
  }

  /** Changes with every policy, credential, roles or mode change: decisions made at another version may no longer hold. */
  get decisionsVersion(): number {
    return this.changes;
  }

  /** The principal's grants as the policy states them (audit mode does not widen them): for authorizedOperations fields. */
  get grants(): PrincipalGrants {
    return this.cache.grants;
  }

  /** Starts deciding one request of `api`: its denials are logged together by endRequest. */
  beginRequest(api: string): void {
    this.api = api;
    this.inRequest = true;
    this.allowedInRequest = 0;
  }

  /** Logs the request's denials, if any, as one line; says what the policy made of the request (in audit mode: would have). */
  endRequest(): AuthorizationOutcome {
    this.inRequest = false;
    const denials = this.pending;
    this.pending = undefined;
    if (!denials) return 'allowed';
    this.denials.record(this.requester, this.api, denials);
    return this.allowedInRequest > 0 ? 'partial' : 'denied';
  }

  /** Whether the request may go ahead for this entity; a denial is logged and counted. */
  check(kind: ResourceKind, name: string, op: Operation): boolean {
    this.recordUse(kind, name, op);
    if (this.cache.allows(kind, name, op)) {
      this.allowedInRequest++;
      return true;
    }
    this.deny(kind, name, op, this.mode);
    return this.mode === 'audit';
  }

  /** Notes what the client asked for, allowed or not, on listeners that record access. */
  recordUse(kind: ResourceKind, name: string, op: Operation): void {
    if (this.recorder) (this.recorded ??= this.recorder.identityOf(this.requester))?.note(kind, name, op);
  }

  /** Requests that are never a client's to make (broker-to-broker traffic): refused in every mode, and logged. */
  refuse(kind: ResourceKind, name: string, op: DeniedOperation): void {
    this.deny(kind, name, op, 'enforce');
  }

  /**
   * Denials that only the broker's answer reveals (a topic that does not exist and may not be
   * auto-created), decided after the request was: logged as one line for `api` and counted.
   */
  deniedByAnswer(api: string, kind: ResourceKind, names: readonly string[], op: Operation): void {
    const denials = new RequestDenials(this.mode);
    for (const name of names) denials.add(kind, name, op, this.mode);
    this.denials.record(this.requester, api, denials);
  }

  /** A request refused whole for naming more than `limit` entities: logged, as no decision about them is made. */
  tooManyEntities(api: string, entities: number, limit: number, answer: 'error response' | 'connection closed'): void {
    this.denials.tooManyEntities(this.requester, api, entities, limit, answer);
  }

  /** Outside a request (a rule called on its own), each denial is its own line. */
  private deny(kind: ResourceKind, name: string, op: DeniedOperation, mode: EnforcementMode): void {
    (this.pending ??= new RequestDenials(this.mode)).add(kind, name, op, mode);
    if (!this.inRequest) this.endRequest();
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
    this.recorded = undefined;
    this.changes++;
    this.cache.clear(policy.grantsFor(principal, roles));
  }

  /** Records uses to `recorder` from now on; undefined stops recording. */
  recordTo(recorder: AccessRecorder | undefined): void {
    this.recorder = recorder;
    this.recorded = undefined;
  }

  set clientId(id: string | null) {
    this.requester.clientId = id;
    this.recorded = undefined;
  }
}

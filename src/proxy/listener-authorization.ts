import type { CompiledPolicy } from '../authz/compiled-policy.js';
import type { DenialLog, EnforcementMode } from '../authz/denial-log.js';
import type { ListenerConfig } from '../config/schema.js';
import type { PolicyStore } from '../authz/policy-store.js';
import { SessionAccess } from '../authz/session-access.js';
import type { AccessRecorder } from '../migration/access-recorder.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import { RequestAuthorizer } from './request-authorizer.js';
import type { TopicIds } from './topic-ids.js';

/** The principal of connections to a listener without authentication, as Kafka names it. */
export const ANONYMOUS = 'ANONYMOUS';

export type ListenerMode = ListenerConfig['mode'];

export interface ListenerAuthorizationLimits {
  maxEntitiesPerRequest: number;
}

/**
 * What a listener with a policy gives each of its sessions to authorize requests with. Its mode
 * may change on reload; in allow-all mode sessions forward requests without deciding anything.
 */
export class ListenerAuthorization {
  constructor(
    readonly listener: string,
    /** The listener's config, whose mode a reload may switch: read on every request. */
    private readonly settings: Pick<ListenerConfig, 'mode'>,
    private readonly policies: Pick<PolicyStore, 'current' | 'onChange'>,
    private readonly denials: DenialLog,
    private readonly topicIds: TopicIds,
    readonly metrics: ProxyMetrics,
    /** The proxy's limits, which a reload updates in place: read for every session. */
    private readonly limits: ListenerAuthorizationLimits,
    /** Set when the listener records access. */
    private readonly recorder?: AccessRecorder,
  ) {}

  get mode(): ListenerMode {
    return this.settings.mode;
  }

  get policy(): CompiledPolicy {
    return this.policies.current;
  }

  /** Calls `fn` with each policy that replaces the current one; returns a function that unregisters it. */
  onPolicyChange(fn: (policy: CompiledPolicy) => void): () => void {
    return this.policies.onChange(fn);
  }

  authorizerFor(principal: string, roles: readonly string[], clientAddress: string, clientId: string | null): RequestAuthorizer {
    const access = new SessionAccess(enforcementMode(this.mode), { listener: this.listener, principal, roles, clientAddress, clientId }, this.policy, this.denials, this.recorder);
    return new RequestAuthorizer(access, this.topicIds, this.limits.maxEntitiesPerRequest);
  }
}

/** What a session's access checks do in `mode`; allow-all sessions do not check, and take the listener's mode if it switches. */
export function enforcementMode(mode: ListenerMode): EnforcementMode {
  return mode === 'allow-all' ? 'enforce' : mode;
}

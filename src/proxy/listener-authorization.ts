import type { CompiledPolicy } from '../authz/compiled-policy.js';
import type { DenialLog, EnforcementMode } from '../authz/denial-log.js';
import { type ListenerConfig, recordsAccess } from '../config/schema.js';
import type { PolicyStore } from '../authz/policy-store.js';
import { SessionAccess } from '../authz/session-access.js';
import type { AccessRecorder } from '../migration/access-recorder.js';
import type { RolesSource } from '../roles/roles-source.js';
import type { RolesOffline } from '../roles/session-roles.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import { RequestAuthorizer } from './request-authorizer.js';
import type { TopicIds } from './topic-ids.js';

/** The principal of connections to a listener without authentication, as Kafka names it. */
export const ANONYMOUS = 'ANONYMOUS';

export type ListenerMode = ListenerConfig['mode'];

export interface ListenerAuthorizationLimits {
  maxEntitiesPerRequest: number;
}

/** A listener's settings that decide its sessions' modes and recording; a reload may change mode and modeOverrides in place. */
export type ListenerModeSettings = Pick<ListenerConfig, 'mode' | 'modeOverrides' | 'recordAccess' | 'authentication' | 'rolesOffline'>;

/**
 * What a listener with a policy gives each of its sessions to authorize requests with. Its mode
 * may change on reload; in allow-all mode sessions forward requests without deciding anything.
 */
export class ListenerAuthorization {
  constructor(
    readonly listener: string,
    /** The listener's config, whose mode and overrides a reload may switch: read for every session and reload. */
    private readonly settings: ListenerModeSettings,
    private readonly policies: Pick<PolicyStore, 'current' | 'onChange'>,
    private readonly denials: DenialLog,
    private readonly topicIds: TopicIds,
    readonly metrics: ProxyMetrics,
    /** The proxy's limits, which a reload updates in place: read for every session. */
    private readonly limits: ListenerAuthorizationLimits,
    /** Set when accessRecording is: sessions record to it while the listener (or their principal's mode) records. */
    private readonly recorder?: AccessRecorder,
    /** Set when rolesSource is: authenticated principals' roles from the permissions service. */
    readonly rolesSource?: RolesSource,
  ) {}

  /** What sessions get while their principal's roles cannot be fetched. */
  get rolesOffline(): RolesOffline {
    return this.settings.rolesOffline;
  }

  get policy(): CompiledPolicy {
    return this.policies.current;
  }

  /** Calls `fn` with each policy that replaces the current one; returns a function that unregisters it. */
  onPolicyChange(fn: (policy: CompiledPolicy) => void): () => void {
    return this.policies.onChange(fn);
  }

  /** A new session's authorizer; `settle` it before deciding anything. */
  authorizerFor(principal: string, roles: readonly string[], clientAddress: string, clientId: string | null): RequestAuthorizer {
    const access = new SessionAccess('enforce', { listener: this.listener, principal, roles, clientAddress, clientId }, this.policy, this.denials);
    const sessions = this.metrics.fetchSessions;
    const listener = this.listener;
    return new RequestAuthorizer(access, this.topicIds, this.limits.maxEntitiesPerRequest, (event) => sessions.inc({ listener, event }));
  }

  /**
   * Points a session's checks at its principal's mode and at the recorder if that mode records;
   * for a new session, a new principal and a reload that changed the mode or the overrides.
   * Returns the session's mode (allow-all: forward without deciding).
   */
  settle(access: SessionAccess, offline?: 'audit' | 'allow-all'): ListenerMode {
    const mode = offlineMode(principalMode(this.settings, access.principal), offline);
    access.mode = enforcementMode(mode);
    access.recordTo(this.recorder && recordsAccess(this.settings, mode) ? this.recorder : undefined);
    return mode;
  }
}

/**
 * The mode of a principal's sessions: its override (an exact name first, else the longest
 * matching prefix), else the listener's. An allow-all listener (an emergency switch) overrides nobody.
 */
export function principalMode(settings: Pick<ListenerConfig, 'mode' | 'modeOverrides'>, principal: string): ListenerMode {
  const overrides = settings.modeOverrides;
  if (!overrides || settings.mode === 'allow-all') return settings.mode;
  if (Object.hasOwn(overrides, principal)) return overrides[principal];
  let longest = -1;
  let mode: ListenerMode = settings.mode;
  for (const [pattern, override] of Object.entries(overrides)) {
    if (pattern.endsWith('*') && pattern.length - 1 > longest && principal.startsWith(pattern.slice(0, -1))) {
      longest = pattern.length - 1;
      mode = override;
    }
  }
  return mode;
}

/** A session whose roles the service cannot give is let through more, never less, than its mode says. */
function offlineMode(mode: ListenerMode, offline: 'audit' | 'allow-all' | undefined): ListenerMode {
  if (offline === 'allow-all' || mode === 'allow-all') return 'allow-all';
  return offline ?? mode;
}

/** What a session's access checks do in `mode`; allow-all sessions do not check, and take the listener's mode if it switches. */
export function enforcementMode(mode: ListenerMode): EnforcementMode {
  return mode === 'allow-all' ? 'enforce' : mode;
}

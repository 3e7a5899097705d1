import type { ListenerConfig } from '../config/schema.js';
import type { CachedRoles } from './roles-cache.js';

export type RolesOffline = ListenerConfig['rolesOffline'];

/** Where a session's service roles stand: fresh, last-known (past the TTL, within maxStale), too old, or never had. */
export const RolesPhase = { Fresh: 0, LastKnown: 1, TooOld: 2, Unknown: 3 } as const;
export type RolesPhase = (typeof RolesPhase)[keyof typeof RolesPhase];

export function rolesPhase(known: Readonly<CachedRoles> | undefined, ttlMs: number, maxStaleMs: number, now: number): RolesPhase {
  if (!known) return RolesPhase.Unknown;
  const age = now - known.fetchedAt;
  return age < ttlMs ? RolesPhase.Fresh : age <= maxStaleMs ? RolesPhase.LastKnown : RolesPhase.TooOld;
}

/** The service's roles a session decides with, and the mode its listener's offline setting puts it in while they cannot be fetched. */
export interface SessionRoles {
  roles: readonly string[];
  /** Set while offline on an audit or allow-all listener: the session's mode, whatever the listener's. */
  offline: 'audit' | 'allow-all' | undefined;
}

const NONE: readonly string[] = [];

/**
 * What a session gets from the service's answer in `phase`: fresh roles always; otherwise the
 * listener's rolesOffline decides: last-known serves them while within maxStale (then nothing, as
 * deny); deny gives none; audit decides as deny would and forwards, logging what it would deny;
 * allow-all forwards everything.
 */
export function sessionRoles(known: Readonly<CachedRoles> | undefined, phase: RolesPhase, offline: RolesOffline): SessionRoles {
  const last = known?.roles ?? NONE;
  if (phase === RolesPhase.Fresh) return { roles: last, offline: undefined };
  switch (offline) {
    case 'last-known':
      return { roles: phase === RolesPhase.LastKnown ? last : NONE, offline: undefined };
    case 'deny':
      return { roles: NONE, offline: undefined };
    case 'audit':
    case 'allow-all':
      return { roles: NONE, offline };
  }
}

import { describe, expect, it } from 'vitest';
import { RolesPhase, rolesPhase, sessionRoles } from '../../src/roles/session-roles.js';

const known = { roles: ['reader'], version: 1, fetchedAt: 1_000 };

describe("a session's roles from the service, and its listener's rolesOffline", () => {
  it('is fresh within the TTL, last-known up to maxStale, then too old; unknown without an answer', () => {
    expect(rolesPhase(known, 60_000, 3_600_000, 60_999)).toBe(RolesPhase.Fresh);
    expect(rolesPhase(known, 60_000, 3_600_000, 61_000)).toBe(RolesPhase.LastKnown);
    expect(rolesPhase(known, 60_000, 3_600_000, 3_601_000)).toBe(RolesPhase.LastKnown);
    expect(rolesPhase(known, 60_000, 3_600_000, 3_601_001)).toBe(RolesPhase.TooOld);
    expect(rolesPhase(undefined, 60_000, 3_600_000, 0)).toBe(RolesPhase.Unknown);
  });

  it('uses fresh roles whatever the offline mode', () => {
    for (const offline of ['last-known', 'deny', 'audit', 'allow-all'] as const) expect(sessionRoles(known, RolesPhase.Fresh, offline)).toEqual({ roles: ['reader'], offline: undefined });
  });

  it('offline: last-known keeps the roles until too old, deny drops them, audit decides as deny and forwards, allow-all forwards', () => {
    expect(sessionRoles(known, RolesPhase.LastKnown, 'last-known')).toEqual({ roles: ['reader'], offline: undefined });
    expect(sessionRoles(known, RolesPhase.TooOld, 'last-known')).toEqual({ roles: [], offline: undefined });
    expect(sessionRoles(undefined, RolesPhase.Unknown, 'last-known')).toEqual({ roles: [], offline: undefined });
    expect(sessionRoles(known, RolesPhase.LastKnown, 'deny')).toEqual({ roles: [], offline: undefined });
    expect(sessionRoles(known, RolesPhase.LastKnown, 'audit')).toEqual({ roles: [], offline: 'audit' });
    expect(sessionRoles(undefined, RolesPhase.Unknown, 'allow-all')).toEqual({ roles: [], offline: 'allow-all' });
  });
});

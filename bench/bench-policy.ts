import { stringify } from 'yaml';
import type { Operation } from '../src/authz/operations.js';

/** A grant as the policy file spells it. */
export interface FileGrant {
  topics?: string[];
  groups?: string[];
  operations: Operation[];
}

export interface BenchPolicy {
  /** The policy file's text. */
  yaml: string;
  /** Roles the bench principal's credential carries: its own and some of the filler. */
  principalRoles: string[];
  roles: number;
  grants: number;
  /** Grants the bench principal holds, its own included. */
  principalGrants: number;
}

const FILLER_ROLES = 200;
const GRANTS_PER_ROLE = 50;
/** The principal holds every tenth filler role, so its matchers are a realistic size too. */
const HELD_EVERY = 10;
export const BENCH_ROLE = 'bench';

/**
 * A policy of realistic size: `own` grants for the bench principal in role "bench", next to
 * 200 roles of 50 topic grants each ("team7.topic13", every fourth a prefix "team7.stream12.*")
 * that never match the bench's names; the principal holds 20 of those roles as well.
 */
export function benchPolicy(own: FileGrant[]): BenchPolicy {
  const roles: Record<string, FileGrant[]> = { [BENCH_ROLE]: own };
  for (let r = 0; r < FILLER_ROLES; r++) {
    roles[`team${r}`] = Array.from({ length: GRANTS_PER_ROLE }, (_, g) => ({
      topics: [g % 4 === 0 ? `team${r}.stream${g}.*` : `team${r}.topic${g}`],
      operations: g % 2 ? ['read'] : ['read', 'write'],
    }));
  }
  const held = Array.from({ length: FILLER_ROLES / HELD_EVERY }, (_, i) => `team${i * HELD_EVERY}`);
  return {
    yaml: stringify({ roles }),
    principalRoles: [BENCH_ROLE, ...held],
    roles: FILLER_ROLES + 1,
    grants: FILLER_ROLES * GRANTS_PER_ROLE + own.length,
    principalGrants: held.length * GRANTS_PER_ROLE + own.length,
  };
}

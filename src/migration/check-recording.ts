import { compilePolicy } from '../authz/compiled-policy.js';
import type { Policy } from '../authz/policy-file.js';
import type { RecordedUse, Recording } from './recording.js';
import { type GroupBy, principalFor } from './suggest-policy.js';

/** What one identity did that the policy would deny. */
export interface WouldBeDenied {
  /** The principal checked: the recorded one, or on unauthenticated listeners the name suggest binds roles to. */
  principal: string;
  listener: string;
  denied: RecordedUse[];
}

/**
 * Replays every recorded use against `policy` (with its bindings; roles a token would carry are
 * not in a recording) and lists, per identity, the uses it would deny.
 */
export function checkRecording(policy: Policy, recording: Recording, groupBy: GroupBy = 'client-id'): WouldBeDenied[] {
  const compiled = compilePolicy(policy);
  const result: WouldBeDenied[] = [];
  for (const identity of recording.identities) {
    const principal = principalFor(identity, groupBy);
    const grants = compiled.grantsFor(principal, []);
    const denied = identity.uses.filter((u) => !grants.allows(u.kind, u.name, u.operation));
    if (denied.length > 0) result.push({ principal, listener: identity.listener, denied });
  }
  return result;
}

export function formatDenials(denials: readonly WouldBeDenied[]): string {
  if (denials.length === 0) return 'every recorded use is allowed\n';
  return denials
    .map((d) => [`${d.principal} (listener ${d.listener}) would be denied:`, ...d.denied.map((u) => `  ${u.operation} ${u.kind} ${u.name} (${u.count}x, last ${new Date(u.lastSeen).toISOString()})`)].join('\n'))
    .join('\n')
    .concat('\n');
}

import { isDeepStrictEqual } from 'node:util';
import type { ListenerConfig, ProxyConfig } from './schema.js';

/** What a running worker applies without new sockets: the rest of a changed config needs new workers. */
const IN_PLACE_TOP = new Set(['logging', 'limits', 'admin', 'workers']);
const IN_PLACE_LISTENER = new Set(['mode', 'modeOverrides', 'limits']);

/** The keys under which `a` and `b` differ, as "prefix.key". */
function differing(a: object, b: object, prefix: string, skip: Set<string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !skip.has(k) && !isDeepStrictEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])).map((k) => `${prefix}${k}`);
}

/**
 * Every difference between the running config and `next` that a worker cannot apply in place,
 * as paths ("upstream.bootstrapServers", "listeners[plain].port", "listeners[+extra]" added,
 * "listeners[-old]" removed); empty when the whole change applies in place (log level, limits,
 * listener modes and mode overrides). The worker count and the admin endpoint are the supervisor's to compare.
 */
export function changesNeedingRestart(current: ProxyConfig, next: ProxyConfig): string[] {
  const changes: string[] = [];
  for (const key of differing(current, next, '', IN_PLACE_TOP)) {
    const [a, b] = [(current as Record<string, unknown>)[key], (next as Record<string, unknown>)[key]];
    if (key === 'listeners') continue;
    const sections = a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a);
    changes.push(...(sections ? differing(a, b, `${key}.`, new Set()) : [key]));
  }
  const byName = (ls: ListenerConfig[]) => new Map(ls.map((l) => [l.name, l]));
  const [was, now] = [byName(current.listeners), byName(next.listeners)];
  for (const [name, l] of now) {
    const before = was.get(name);
    changes.push(...(before ? differing(before, l, `listeners[${name}].`, IN_PLACE_LISTENER) : [`listeners[+${name}]`]));
  }
  for (const name of was.keys()) if (!now.has(name)) changes.push(`listeners[-${name}]`);
  return changes;
}

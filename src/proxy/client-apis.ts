import { API_RULES } from '../authz/api-rules/table.js';
import { API_KEYS, APIS } from '../protocol/generated/apis.js';

/**
 * Highest versions the proxy offers where it chooses to stay below what it can decode. Fetch
 * stops at v15: from v16 a response may end with broker addresses (NodeEndpoints, KIP-951)
 * behind all its record data, which would force the proxy to buffer every fetch response
 * instead of streaming it through.
 */
const VERSION_CAPS = new Map<number, number>([[API_KEYS.Fetch, 15]]);

export interface OfferedRange {
  minVersion: number;
  maxVersion: number;
}

/**
 * An API is offered when the authorization table has a rule for it (inter-broker, controller
 * and delegation-token APIs have none), within the versions the rule allows, up to the highest
 * stable one.
 */
function offered(apiKey: number): OfferedRange | undefined {
  const api = APIS[apiKey];
  const rule = API_RULES[apiKey];
  if (!api || !rule || !api.listeners.includes('broker')) return undefined;
  const maxVersion = Math.min(api.maxStableVersion, VERSION_CAPS.get(apiKey) ?? Infinity, rule.maxVersion ?? Infinity);
  const minVersion = Math.max(api.minVersion, rule.minVersion ?? 0);
  return maxVersion < minVersion ? undefined : { minVersion, maxVersion };
}

/** Indexed by API key: the versions the proxy accepts from clients, or undefined if none. */
export const CLIENT_API_RANGES: readonly (OfferedRange | undefined)[] = APIS.map((api) => offered(api.apiKey));

export function isOfferedVersion(apiKey: number, version: number): boolean {
  const range = CLIENT_API_RANGES[apiKey];
  return range !== undefined && version >= range.minVersion && version <= range.maxVersion;
}

export interface ApiVersionEntry {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The broker's ApiVersions list cut down to what the proxy offers (the intersection, per API). */
export function capApiVersions<T extends ApiVersionEntry>(brokerApis: readonly T[]): T[] {
  const result: T[] = [];
  for (const entry of brokerApis) {
    const ours = CLIENT_API_RANGES[entry.apiKey];
    if (!ours) continue;
    const minVersion = Math.max(entry.minVersion, ours.minVersion);
    const maxVersion = Math.min(entry.maxVersion, ours.maxVersion);
    if (minVersion <= maxVersion) result.push({ ...entry, minVersion, maxVersion });
  }
  return result;
}

import { availableParallelism } from 'node:os';
import type { ProxyConfig } from './schema.js';

/** The connection-count limits of a listener, which the workers split between them. */
const SHARED_LISTENER_LIMITS = [
  'maxConnections',
  'maxUnauthenticatedConnections',
  'maxUnauthenticatedConnectionsPerIp',
  'maxConnectionsPerIp',
  'maxNewConnectionsPerSecondPerIp',
] as const;

/** How many workers `workers` asks for: auto is one per core this process may run on. */
export function workerCount(setting: ProxyConfig['workers']): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/**
 * One worker's config out of the proxy's: each listener's connection counts divided between the
 * workers, rounded up. The supervisor hands connections out round-robin, so the configured
 * numbers hold for the whole proxy within rounding. Memory budgets stay whole: each bounds its
 * own worker's heap.
 */
export function workerShare(config: ProxyConfig, workers: number): ProxyConfig {
  const share = structuredClone(config);
  for (const listener of share.listeners) {
    for (const limit of SHARED_LISTENER_LIMITS) listener.limits[limit] = Math.ceil(listener.limits[limit] / workers);
  }
  return share;
}

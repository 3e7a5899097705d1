import type { ListenerStatus, WorkerStatus } from '../observe/proxy-status.js';
import type { ModeOverride } from './mode-overrides.js';
import type { WorkerState } from './worker-handle.js';

/** One worker as the supervisor knows it, with what it reported (undefined: starting, draining, or no answer). */
export interface WorkerEntry {
  id: number;
  pid: number | undefined;
  generation: number;
  state: WorkerState;
  status: WorkerStatus | undefined;
}

export interface Readiness {
  ready: boolean;
  notReady: string[];
}

/**
 * Ready when at least one worker accepts and every accepting worker can serve every client
 * (its JWKS loaded and fresh); the reasons otherwise, per worker.
 */
export function readinessOf(entries: WorkerEntry[], stopping: boolean): Readiness {
  if (stopping) return { ready: false, notReady: ['the proxy is stopping'] };
  const ready = entries.filter((e) => e.state === 'ready');
  if (ready.length === 0) {
    const starting = entries.filter((e) => e.state === 'starting').length;
    return { ready: false, notReady: [`no worker accepts connections yet (${starting} starting: loading the config, policy and keys, or waiting for a broker to answer)`] };
  }
  const notReady = ready.flatMap((e) => (e.status ? e.status.notReady : ['did not answer']).map((why) => `worker ${e.id}: ${why}`));
  return { ready: notReady.length === 0, notReady };
}

/** A listener across the proxy, with the admin's live mode override if one is in force. */
export interface ListenerWideStatus extends ListenerStatus {
  override?: Omit<ModeOverride, 'at'> & { at: string };
}

/** Listener entries of every worker, connection counts summed; the mode is the latest generation's, with any live override. */
function combinedListeners(reports: WorkerStatus[], override: (listener: string) => ModeOverride | undefined): ListenerWideStatus[] {
  const byName = new Map<string, ListenerStatus>();
  for (const report of reports) {
    for (const l of report.listeners) {
      const seen = byName.get(l.name);
      if (!seen) byName.set(l.name, { ...l, connections: { ...l.connections } });
      else {
        seen.connections.open += l.connections.open;
        seen.connections.unauthenticated += l.connections.unauthenticated;
      }
    }
  }
  return [...byName.values()].map((l) => {
    const o = override(l.name);
    return o ? { ...l, override: { mode: o.mode, configuredMode: o.configuredMode, by: o.by, address: o.address, at: o.at.toISOString() } } : l;
  });
}

/** GET /status as JSON (what `kafka-auth-proxy admin status` reads). */
export type ProxyWideStatus = ReturnType<typeof proxyWideStatus>;

/** The whole proxy's /status: readiness, workers, listeners, policy, JWKS and brokers. */
export function proxyWideStatus(entries: WorkerEntry[], readiness: Readiness, generation: number, override: (listener: string) => ModeOverride | undefined) {
  // The current generation's reports first: they speak for the proxy while an older one drains.
  const reports = entries
    .filter((e) => e.status !== undefined)
    .sort((a, b) => b.generation - a.generation)
    .map((e) => e.status!);
  const latest = reports[0];
  return {
    ...readiness,
    generation,
    workers: entries.map((e) => ({
      id: e.id,
      pid: e.pid,
      generation: e.generation,
      state: e.state,
      ...(e.status?.policy ? { policyHash: e.status.policy.hash } : {}),
      ...(e.status?.jwks?.ageSeconds !== undefined ? { jwksAgeSeconds: e.status.jwks.ageSeconds } : {}),
    })),
    listeners: combinedListeners(reports, override),
    ...(latest?.policy ? { policy: latest.policy } : {}),
    ...(latest?.jwks ? { jwks: latest.jwks } : {}),
    brokers: latest?.brokers ?? [],
  };
}

import type { JwksStatus } from '../auth/jwks-cache.js';
import type { PolicyStatus } from '../authz/policy-store.js';
import type { ListenerMode } from '../proxy/listener-authorization.js';

/** One listener as a worker sees it. */
export interface ListenerStatus {
  name: string;
  mode: ListenerMode;
  authentication: string[];
  bind: string;
  port: number;
  tls: boolean;
  connections: { open: number; unauthenticated: number };
}

/** What one worker reports about itself (admin /status and /readyz): plain JSON, no secrets. */
export interface WorkerStatus {
  /** Why the worker cannot serve every client yet; empty when it can. */
  notReady: string[];
  listeners: ListenerStatus[];
  policy?: Omit<PolicyStatus, 'loadedAt'> & { loadedAt: string };
  jwks?: Omit<JwksStatus, 'fetchedAt'> & { fetchedAt?: string; ageSeconds?: number };
  brokers: Array<{ nodeId: number; host: string; port: number }>;
}

/** The JSON form of the JWKS status, with its age now. */
export function jwksStatusJson(status: JwksStatus, nowMs = Date.now()): NonNullable<WorkerStatus['jwks']> {
  const { fetchedAt, ...rest } = status;
  return fetchedAt ? { ...rest, fetchedAt: fetchedAt.toISOString(), ageSeconds: Math.round((nowMs - fetchedAt.getTime()) / 1000) } : rest;
}

export function policyStatusJson(status: PolicyStatus): NonNullable<WorkerStatus['policy']> {
  return { ...status, loadedAt: status.loadedAt.toISOString() };
}

/** Why a worker with this JWKS cannot check every token yet. */
export function jwksNotReady(status: JwksStatus): string[] {
  if (status.fresh) return [];
  return [status.fetchedAt ? 'the JWKS is older than jwksMaxStaleSeconds' : 'the JWKS has not been loaded'];
}

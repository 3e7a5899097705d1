import type { ListenerLimitsConfig } from '../config/schema.js';
import { NewConnectionRate } from './new-connection-rate.js';

/** Why a new connection was refused at accept. */
export type AcceptLimit = 'max-connections' | 'max-unauthenticated' | 'per-ip' | 'per-ip-rate';

export type ConnectionState = 'unauthenticated' | 'authenticated';

/** An admitted connection's place in its listener's counts. Each method takes effect once. */
export interface Admission {
  readonly state: ConnectionState;
  authenticated(): void;
  closed(): void;
}

/**
 * A listener's connection counts and the limits on them: open connections, connections still
 * authenticating, connections per client IP and new connections per second per client IP.
 * Only admitted connections count, against every limit.
 */
export class ConnectionLimits {
  private open = 0;
  private unauthenticated = 0;
  /** An IP leaves when its last connection closes, so this never holds more than maxConnections keys. */
  private readonly perIp = new Map<string, number>();
  private readonly rate: NewConnectionRate;

  constructor(
    private readonly limits: Pick<ListenerLimitsConfig, 'maxConnections' | 'maxUnauthenticatedConnections' | 'maxConnectionsPerIp' | 'maxNewConnectionsPerSecondPerIp'>,
    now?: () => number,
  ) {
    this.rate = new NewConnectionRate(limits.maxNewConnectionsPerSecondPerIp, now);
  }

  get openConnections(): number {
    return this.open;
  }

  get unauthenticatedConnections(): number {
    return this.unauthenticated;
  }

  connectionsFrom(ip: string): number {
    return this.perIp.get(clientHost(ip)) ?? 0;
  }

  /** Counts a new connection from `ip` in `state`, or says which limit refuses it. */
  admit(ip: string, state: ConnectionState): Admission | AcceptLimit {
    const host = clientHost(ip);
    const fromHost = this.perIp.get(host) ?? 0;
    if (this.open >= this.limits.maxConnections) return 'max-connections';
    if (state === 'unauthenticated' && this.unauthenticated >= this.limits.maxUnauthenticatedConnections) return 'max-unauthenticated';
    if (fromHost >= this.limits.maxConnectionsPerIp) return 'per-ip';
    if (!this.rate.take(host)) return 'per-ip-rate';
    this.open++;
    if (state === 'unauthenticated') this.unauthenticated++;
    this.perIp.set(host, fromHost + 1);
    return this.admission(host, state);
  }

  private admission(host: string, initial: ConnectionState): Admission {
    let state = initial;
    let open = true;
    return {
      get state() {
        return state;
      },
      authenticated: () => {
        if (!open || state === 'authenticated') return;
        state = 'authenticated';
        this.unauthenticated--;
      },
      closed: () => {
        if (!open) return;
        open = false;
        this.open--;
        if (state === 'unauthenticated') this.unauthenticated--;
        const left = this.perIp.get(host)! - 1;
        if (left === 0) this.perIp.delete(host);
        else this.perIp.set(host, left);
      },
    };
  }
}

/** A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; they are the same host as a.b.c.d. */
function clientHost(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

import type { ListenerLimitsConfig } from '../config/schema.js';
import { clientHost } from './client-host.js';
import { NewConnectionRate } from './new-connection-rate.js';

/** Why a new connection was refused at accept. */
export type AcceptLimit = 'max-connections' | 'max-unauthenticated' | 'per-ip-unauthenticated' | 'per-ip' | 'per-ip-rate';

export type ConnectionState = 'unauthenticated' | 'authenticated';

/** An admitted connection's place in its listener's counts. Each method takes effect once. */
export interface Admission {
  readonly state: ConnectionState;
  authenticated(): void;
  closed(): void;
}

/**
 * A listener's connection counts and the limits on them: open connections, connections still
 * authenticating (in all and per client IP), connections per client IP and new connections per
 * second per client IP. Only admitted connections count, against every limit. A client IP is
 * an IPv4 address or an IPv6 /64 (see clientHost).
 */
export class ConnectionLimits {
  private open = 0;
  private unauthenticated = 0;
  /** An IP leaves when its last connection closes, so this never holds more than maxConnections keys. */
  private readonly perIp = new Map<string, number>();
  /** The same for connections still authenticating: at most maxUnauthenticatedConnections keys. */
  private readonly unauthenticatedPerIp = new Map<string, number>();
  private readonly rate: NewConnectionRate;

  constructor(
    private readonly limits: Pick<
      ListenerLimitsConfig,
      'maxConnections' | 'maxUnauthenticatedConnections' | 'maxUnauthenticatedConnectionsPerIp' | 'maxConnectionsPerIp' | 'maxNewConnectionsPerSecondPerIp'
    >,
    now?: () => number,
  ) {
    this.rate = new NewConnectionRate(limits.maxNewConnectionsPerSecondPerIp, now);
  }

  /** After a reload changed the limits object: the per-IP rate takes its new value (the counts read it on every admit). */
  limitsChanged(): void {
    this.rate.perSecond = this.limits.maxNewConnectionsPerSecondPerIp;
  }

  get openConnections(): number {
    return this.open;
  }

  get unauthenticatedConnections(): number {
    return this.unauthenticated;
  }

  connectionsFrom(ip: string): number {
    return count(this.perIp, clientHost(ip));
  }

  unauthenticatedConnectionsFrom(ip: string): number {
    return count(this.unauthenticatedPerIp, clientHost(ip));
  }

  /** Counts a new connection from `ip` in `state`, or says which limit refuses it. */
  admit(ip: string, state: ConnectionState): Admission | AcceptLimit {
    const host = clientHost(ip);
    if (this.open >= this.limits.maxConnections) return 'max-connections';
    if (state === 'unauthenticated') {
      if (this.unauthenticated >= this.limits.maxUnauthenticatedConnections) return 'max-unauthenticated';
      if (count(this.unauthenticatedPerIp, host) >= this.limits.maxUnauthenticatedConnectionsPerIp) return 'per-ip-unauthenticated';
    }
    if (count(this.perIp, host) >= this.limits.maxConnectionsPerIp) return 'per-ip';
    if (!this.rate.take(host)) return 'per-ip-rate';
    this.open++;
    if (state === 'unauthenticated') {
      this.unauthenticated++;
      add(this.unauthenticatedPerIp, host, 1);
    }
    add(this.perIp, host, 1);
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
        add(this.unauthenticatedPerIp, host, -1);
      },
      closed: () => {
        if (!open) return;
        open = false;
        this.open--;
        if (state === 'unauthenticated') {
          this.unauthenticated--;
          add(this.unauthenticatedPerIp, host, -1);
        }
        add(this.perIp, host, -1);
      },
    };
  }
}

function count(counts: Map<string, number>, host: string): number {
  return counts.get(host) ?? 0;
}

/** A host whose count reaches 0 leaves the map. */
function add(counts: Map<string, number>, host: string, delta: number): void {
  const n = count(counts, host) + delta;
  if (n === 0) counts.delete(host);
  else counts.set(host, n);
}

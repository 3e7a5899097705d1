import type { AuthenticationFailure } from '../auth/authentication-failure.js';
import type { EnforcementMode } from '../authz/denial-log.js';
import type { AuthorizationOutcome } from '../authz/session-access.js';
import { APIS } from '../protocol/generated/apis.js';
import type { CloseClass } from '../proxy/close-class.js';
import type { CountCell } from './deferred-counter.js';
import type { DurationCell } from './deferred-histogram.js';
import type { ProxyMetrics } from './metrics.js';

/** Slot for API keys the proxy does not know, after the known ones. */
const UNKNOWN_API = APIS.length;
const OUTCOME_SLOT: Readonly<Record<AuthorizationOutcome, number>> = { allowed: 0, denied: 1, partial: 2 };
const MODE_SLOT: Readonly<Record<EnforcementMode, number>> = { enforce: 0, audit: 1 };

function apiSlot(apiKey: number): number {
  return apiKey >= 0 && apiKey < UNKNOWN_API ? apiKey : UNKNOWN_API;
}

function apiName(slot: number): string {
  return slot === UNKNOWN_API ? 'unknown' : APIS[slot].name;
}

/** Milliseconds from performance.now() to now, in seconds. */
function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}

/**
 * One listener's metrics for its sessions. What a session records per request or per chunk is
 * an addition to a cell bound to its labels once (made on first use, per API key): no label
 * object, no string and no prom-client call on the request path.
 */
export class ListenerMetrics {
  /** Add each chunk's length. */
  readonly bytesReceived: CountCell;
  readonly bytesSent: CountCell;
  private readonly requests: (CountCell | undefined)[] = [];
  private readonly requestLatency: (DurationCell | undefined)[] = [];
  private readonly responseLatency: (DurationCell | undefined)[] = [];
  /** Per API slot, outcome and mode: slot * 6 + outcome * 2 + mode. */
  private readonly decisions: (CountCell | undefined)[] = [];
  private readonly upstreams;

  constructor(
    private readonly metrics: ProxyMetrics,
    readonly listener: string,
  ) {
    this.bytesReceived = metrics.clientBytesReceived.cell({ listener });
    this.bytesSent = metrics.clientBytesSent.cell({ listener });
    this.upstreams = metrics.upstreamConnections.labels(listener);
  }

  /** A request taken from a client that may send requests (counted once, whatever it waits for). */
  requestTaken(apiKey: number): void {
    const slot = apiSlot(apiKey);
    (this.requests[slot] ??= this.metrics.requests.cell({ listener: this.listener, api: apiName(slot) })).n++;
  }

  /** A request is written upstream; `readAtMs` (performance.now()) is when its last byte was read. */
  requestForwarded(apiKey: number, readAtMs: number): void {
    const slot = apiSlot(apiKey);
    (this.requestLatency[slot] ??= this.latencyCell(slot, 'request')).observe(secondsSince(readAtMs));
  }

  /** A response the proxy rewrote, spliced or made itself is about to be written; `sinceMs` is when its input was all read. */
  responseReady(apiKey: number, sinceMs: number): void {
    const slot = apiSlot(apiKey);
    (this.responseLatency[slot] ??= this.latencyCell(slot, 'response')).observe(secondsSince(sinceMs));
  }

  decided(apiKey: number, outcome: AuthorizationOutcome, mode: EnforcementMode): void {
    const slot = apiSlot(apiKey);
    const index = slot * 6 + OUTCOME_SLOT[outcome] * 2 + MODE_SLOT[mode];
    (this.decisions[index] ??= this.metrics.authorizationDecisions.cell({ listener: this.listener, api: apiName(slot), outcome, mode })).n++;
  }

  authenticated(mechanism: string, reauthentication: boolean): void {
    this.metrics.authenticationAttempts.inc({ listener: this.listener, mechanism, outcome: 'success' });
    if (reauthentication) this.metrics.reauthentications.inc({ listener: this.listener, mechanism, outcome: 'success' });
  }

  /** `mechanism` undefined: the client never got as far as choosing one the listener offers. */
  authenticationFailed(mechanism: string | undefined, failure: AuthenticationFailure, reauthentication: boolean): void {
    const labels = { listener: this.listener, mechanism: mechanism ?? 'none' };
    this.metrics.authenticationAttempts.inc({ ...labels, outcome: 'failure' });
    this.metrics.authenticationFailures.inc({ ...labels, reason: failure });
    if (reauthentication) this.metrics.reauthentications.inc({ ...labels, outcome: 'failure' });
  }

  /** The SaslAuthenticate response is written; `startedAtMs` is when the SaslHandshake request was read. */
  authenticationAnswered(mechanism: string, startedAtMs: number): void {
    this.metrics.authenticationDuration.observe({ listener: this.listener, mechanism }, secondsSince(startedAtMs));
  }

  connectionClosed(reason: CloseClass): void {
    this.metrics.connectionsClosed.inc({ listener: this.listener, reason });
    if (reason === 'session-expired') this.metrics.sessionsExpired.inc({ listener: this.listener });
  }

  upstreamOpened(): void {
    this.upstreams.inc();
  }

  upstreamClosed(): void {
    this.upstreams.dec();
  }

  /** `broker`: the node id, or "bootstrap" for a bootstrap server. */
  brokerConnectFailed(broker: string): void {
    this.metrics.brokerConnectionFailures.inc({ broker });
  }

  private latencyCell(slot: number, direction: 'request' | 'response'): DurationCell {
    return this.metrics.addedLatency.cell({ listener: this.listener, api: apiName(slot), direction });
  }
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JwksStatus } from '../auth/jwks-cache.js';
import type { PolicyStatus } from '../authz/policy-store.js';
import { DeferredCounter } from './deferred-counter.js';
import { DeferredHistogram } from './deferred-histogram.js';

/** The proxy-wide memory budgets, by the names kafka_proxy_buffered_bytes gives them. */
export type BudgetName = 'held-responses' | 'preauth-bytes' | 'request-bytes';

/** What the gauges computed at collect time read from the running proxy. */
export interface ObservedProxy {
  /** undefined without OAUTHBEARER. */
  jwks(): JwksStatus | undefined;
  /** undefined without a policy. */
  policy(): PolicyStatus | undefined;
  budgets: Readonly<Record<BudgetName, { readonly heldBytes: number }>>;
}

/** Added latency: 10 µs (a header read and a write) to 100 ms (a broker connection opened for a first request). */
const ADDED_LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
/** Authentication: 0.1 ms (a token seen before) to 10 s (a JWKS fetched for an unknown kid, a client slow to answer). */
const AUTHENTICATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * How often a worker samples its event-loop delay (nodejs_eventloop_lag_*). prom-client's default,
 * 10 ms, wakes an idle process 100 times a second at ~3 ms of CPU a second; every 20 ms halves
 * that and still catches every stall longer than 20 ms, the longest the proxy means to hold a
 * worker (docs/benchmarks.md, metadata).
 */
const WORKER_EVENT_LOOP_SAMPLE_MS = 20;

/**
 * The proxy's Prometheus metrics (one registry per worker; the supervisor sums them, each gauge
 * by its own `aggregator`). Labels carry fixed classes only (listener, API, mechanism, reason,
 * outcome): never principals, resource names, client ids, addresses or anything from a
 * credential, so cardinality stays bounded and nothing secret can leak through a label.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  /** Set once the proxy runs: what the collect-time gauges read. */
  private observed: ObservedProxy | undefined;
  /** The hash kafka_proxy_policy_info last reported, so its series goes when the policy changes. */
  private reportedPolicyHash: string | undefined;

  readonly denials = new Counter({
    name: 'kafka_proxy_authorization_denials_total',
    help: 'Entities refused by the policy (in audit mode: would have been refused), by listener, API, resource kind and mode',
    labelNames: ['listener', 'api', 'resource', 'mode'] as const,
    registers: [this.registry],
  });

  readonly denialLinesSuppressed = new Counter({
    name: 'kafka_proxy_denial_log_lines_suppressed_total',
    help: 'Denial log lines left out because the proxy-wide line budget per second was spent (the denials themselves are still counted), by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly sessionsRevoked = new Counter({
    name: 'kafka_proxy_sessions_revoked_total',
    help: 'Authenticated sessions ended because a reload took their credential away (key removed, secret or principal changed, signing key gone), by listener and reason',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });

  readonly droppedProduce = new Counter({
    name: 'kafka_proxy_dropped_produce_requests_total',
    help: 'acks=0 Produce requests dropped because every topic in them was denied (such requests get no response to carry an error)',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly fetchSessions = new Counter({
    name: 'kafka_proxy_fetch_sessions_total',
    help: 'Fetch sessions (KIP-227) on listeners with a policy, by listener and event (opened: the broker opened one for a checked full fetch; incremental: an incremental fetch went ahead in one; ended: the proxy sent the client back to a full fetch because a policy, credential, roles or mode change would decide a topic of its session otherwise, or the session outgrew limits.maxEntitiesPerRequest; refused: an incremental fetch named a session its connection did not open, or the wrong epoch)',
    labelNames: ['listener', 'event'] as const,
    registers: [this.registry],
  });

  readonly connectionsRefused = new Counter({
    name: 'kafka_proxy_connections_refused_total',
    help: 'Connections closed by a connection limit, by listener and limit (max-connections, max-unauthenticated, per-ip-unauthenticated, per-ip, per-ip-rate: at accept, before any read; preauth-bytes, request-bytes: the proxy-wide budgets of bytes in incomplete frames before and after authentication; held-responses: the budget of responses held to rewrite them and answers a client has not taken; each counting both a connection refused room and the largest holder evicted to make room)',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });

  readonly requestsRefused = new Counter({
    name: 'kafka_proxy_requests_refused_total',
    help: 'Requests refused whole before any authorization decision, by listener, API (unknown for a key the proxy does not know) and reason (unsupported-version: an API or version the proxy does not offer, the connection closed; too-many-entities: over limits.maxEntitiesPerRequest)',
    labelNames: ['listener', 'api', 'reason'] as const,
    registers: [this.registry],
  });

  readonly tlsHandshakeFailures = new Counter({
    name: 'kafka_proxy_tls_handshake_failures_total',
    help: 'TLS connections refused before any request, by listener and reason (tls-error: a failed handshake, such as plaintext bytes to a TLS port; client-certificate: missing, untrusted or expired where one is required; timeout: no handshake within authenticationTimeoutMs; closed: the client left mid-handshake; unknown-server-name: an SNI name the listener does not serve, or none on an sni listener)',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });

  readonly tlsCertificateExpiry = new Gauge({
    name: 'kafka_proxy_tls_certificate_expiry_timestamp_seconds',
    help: 'When a certificate the proxy presents expires (Unix seconds; the earliest of its chain), by listener (upstream: the client certificate for the brokers) and certificate (server, upstream-client); updated on every reload',
    labelNames: ['listener', 'certificate'] as const,
    registers: [this.registry],
    // Across workers: the earliest, which is also the old certificate while a reload is under way.
    aggregator: 'min',
  });

  readonly authenticationTimeouts = new Counter({
    name: 'kafka_proxy_authentication_timeouts_total',
    help: 'Connections closed because they did not authenticate within the listener\'s authenticationTimeoutMs, by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly connectionsAccepted = new Counter({
    name: 'kafka_proxy_connections_accepted_total',
    help: 'Client connections accepted, before any limit, by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly openConnections = new Gauge({
    name: 'kafka_proxy_open_connections',
    help: 'Open client connections, by listener and state (unauthenticated, authenticated; `authentication: none` connections are authenticated)',
    labelNames: ['listener', 'state'] as const,
    registers: [this.registry],
  });

  readonly connectionsClosed = new Counter({
    name: 'kafka_proxy_connections_closed_total',
    help: 'Client connections closed, each once, by listener and reason (client-closed, broker-closed, broker-unreachable, idle-timeout, malformed-request, unsupported-request, tls-failed, authentication-failed, authentication-timeout, session-expired, revoked, limit, shutdown, error, other)',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });

  readonly upstreamConnections = new Gauge({
    name: 'kafka_proxy_upstream_connections',
    help: 'Open connections from the proxy to brokers for client sessions, by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
    aggregator: 'sum',
  });

  readonly brokerConnectionFailures = new Counter({
    name: 'kafka_proxy_broker_connection_failures_total',
    help: 'Connections to a broker that failed (refused, timed out, TLS handshake failed), by broker (node id; bootstrap for bootstrap servers)',
    labelNames: ['broker'] as const,
    registers: [this.registry],
  });

  readonly authenticationAttempts = new Counter({
    name: 'kafka_proxy_authentication_attempts_total',
    help: 'Authentications (SASL exchanges, first or repeated on a live session; MTLS certificates mapped to a principal), by listener, mechanism (none: no offered mechanism was chosen) and outcome (success, failure)',
    labelNames: ['listener', 'mechanism', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly authenticationFailures = new Counter({
    name: 'kafka_proxy_authentication_failures_total',
    help: 'Failed authentications, by listener, mechanism and reason class (expired, not-yet-valid, clock-skew, bad-signature, unknown-key, jwks-unavailable, wrong-audience, wrong-issuer, wrong-region, wrong-host, missing-claim, malformed, unknown-access-key, signature-mismatch, untrusted-certificate, no-principal-mapping, unsupported-mechanism, illegal-state, other)',
    labelNames: ['listener', 'mechanism', 'reason'] as const,
    registers: [this.registry],
  });

  readonly reauthentications = new Counter({
    name: 'kafka_proxy_reauthentications_total',
    help: 'Re-authentications on a live session (KIP-368), by listener, mechanism and outcome (success, failure); also counted in kafka_proxy_authentication_attempts_total',
    labelNames: ['listener', 'mechanism', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly sessionsExpired = new Counter({
    name: 'kafka_proxy_sessions_expired_total',
    help: 'Sessions closed because their credential or maximum session lifetime ended without re-authentication, by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly authenticationDuration = new Histogram({
    name: 'kafka_proxy_authentication_duration_seconds',
    help: 'From a SaslHandshake request read to the SaslAuthenticate response written, successful or not (a failure\'s answer waits failedAuthenticationDelayMs), by listener and mechanism',
    labelNames: ['listener', 'mechanism'] as const,
    buckets: AUTHENTICATION_BUCKETS,
    registers: [this.registry],
  });

  readonly requests = new DeferredCounter({
    name: 'kafka_proxy_requests_total',
    help: 'Requests taken from clients that may send requests (the SASL exchanges are counted as authentications), by listener and API (unknown for a key the proxy does not know)',
    labelNames: ['listener', 'api'] as const,
    registers: [this.registry],
  });

  readonly addedLatency = new DeferredHistogram({
    name: 'kafka_proxy_added_latency_seconds',
    help: 'Time the proxy adds, by listener, API and direction (request: from the last byte of a request read from the client to its write upstream; response: for responses the proxy rewrites, splices or answers itself, from the last byte read from the broker, or of the request for its own answers, to the write to the client)',
    labelNames: ['listener', 'api', 'direction'] as const,
    buckets: ADDED_LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly clientBytesReceived = new DeferredCounter({
    name: 'kafka_proxy_client_bytes_received_total',
    help: 'Kafka protocol bytes read from clients (after TLS), by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly clientBytesSent = new DeferredCounter({
    name: 'kafka_proxy_client_bytes_sent_total',
    help: 'Kafka protocol bytes written to clients (before TLS), by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  readonly authorizationDecisions = new DeferredCounter({
    name: 'kafka_proxy_authorization_decisions_total',
    help: 'Requests decided against the policy, by listener, API, outcome (allowed: nothing denied; denied: everything; partial: some entities) and mode (enforce, audit: what enforce would have done)',
    labelNames: ['listener', 'api', 'outcome', 'mode'] as const,
    registers: [this.registry],
  });

  readonly jwksFetches = new Counter({
    name: 'kafka_proxy_jwks_fetches_total',
    help: 'Fetches of the JWKS (start, periodic, unknown kid, retry, SIGHUP), by outcome (success, failure)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly jwksKeys: Gauge = new Gauge({
    name: 'kafka_proxy_jwks_keys',
    help: 'Key ids in the JWKS in use (0 before the first successful fetch); absent without OAUTHBEARER',
    registers: [this.registry],
    // The fewest any worker holds: a worker without keys refuses every token, and a sum or max would hide it.
    aggregator: 'min',
    collect: (): void => this.setOrRemove(this.jwksKeys, this.observed?.jwks()?.keyIds.length),
  });

  readonly jwksLastSuccessAge: Gauge = new Gauge({
    name: 'kafka_proxy_jwks_last_success_age_seconds',
    help: 'Seconds since the JWKS in use was fetched; absent before the first successful fetch',
    registers: [this.registry],
    // The stalest worker's.
    aggregator: 'max',
    collect: (): void => {
      const fetchedAt = this.observed?.jwks()?.fetchedAt;
      this.setOrRemove(this.jwksLastSuccessAge, fetchedAt && (Date.now() - fetchedAt.getTime()) / 1000);
    },
  });

  readonly policyReloads = new Counter({
    name: 'kafka_proxy_policy_reloads_total',
    help: 'Reloads of the policy file (it changed, or SIGHUP), by outcome (success; failure: the file was refused and the previous policy kept)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly policyInfo: Gauge<'hash'> = new Gauge({
    name: 'kafka_proxy_policy_info',
    help: 'Always 1, for the SHA-256 (hex) of the policy file in use, by hash: only the current one has a series',
    labelNames: ['hash'] as const,
    registers: [this.registry],
    // Workers may briefly run different versions after a reload: each hash shows, as 1.
    aggregator: 'max',
    collect: (): void => {
      const hash = this.observed?.policy()?.hash;
      if (this.reportedPolicyHash !== undefined && this.reportedPolicyHash !== hash) this.policyInfo.remove(this.reportedPolicyHash);
      if (hash !== undefined) this.policyInfo.set({ hash }, 1);
      this.reportedPolicyHash = hash;
    },
  });

  readonly policyLoadedTimestamp: Gauge = new Gauge({
    name: 'kafka_proxy_policy_loaded_timestamp_seconds',
    help: 'When the policy in use was loaded (Unix seconds); absent without a policy',
    registers: [this.registry],
    // The oldest policy any worker still runs.
    aggregator: 'min',
    collect: (): void => {
      const loadedAt = this.observed?.policy()?.loadedAt;
      this.setOrRemove(this.policyLoadedTimestamp, loadedAt && loadedAt.getTime() / 1000);
    },
  });

  readonly credentialsReloads = new Counter({
    name: 'kafka_proxy_credentials_reloads_total',
    help: 'Reloads of the AWS credentials file (it changed, or SIGHUP), by outcome (success; failure: the file was refused and the previous keys kept)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly bufferedBytes: Gauge<'budget'> = new Gauge({
    name: 'kafka_proxy_buffered_bytes',
    help: 'Bytes held now in each proxy-wide memory budget, by budget (held-responses, preauth-bytes, request-bytes)',
    labelNames: ['budget'] as const,
    registers: [this.registry],
    // Each worker has its own budgets: together they hold the sum.
    aggregator: 'sum',
    collect: (): void => {
      for (const [budget, held] of Object.entries(this.observed?.budgets ?? {})) this.bufferedBytes.set({ budget }, held.heldBytes);
    },
  });

  readonly accessRecorderEntries = new Gauge({
    name: 'kafka_proxy_access_recorder_entries',
    help: 'Resource and operation uses the access recorder holds (one per identity, resource and operation)',
    registers: [this.registry],
    // Each worker records for itself.
    aggregator: 'sum',
  });

  readonly accessRecorderDropped = new Counter({
    name: 'kafka_proxy_access_recorder_dropped_total',
    help: 'Uses the access recorder left out because accessRecording.maxIdentities or maxEntriesPerIdentity was reached',
    registers: [this.registry],
  });

  readonly plaintextClients = plaintextClientsGauge(this.registry);

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: WORKER_EVENT_LOOP_SAMPLE_MS });
  }

  /** From now on the collect-time gauges report this proxy's JWKS, policy and budgets. */
  observe(proxy: ObservedProxy): void {
    this.observed = proxy;
  }

  /** A gauge without labels that has no value to report is left out, not reported as 0. */
  private setOrRemove(gauge: Gauge, value: number | undefined): void {
    if (value === undefined) gauge.remove();
    else gauge.set(value);
  }
}

/**
 * Clients (client id and address) seen on a plaintext listener whose client id has not turned up
 * on an authenticated listener that records access. A worker knows only its own clients; the
 * supervisor counts the union of what every worker saw, and its value comes first in the
 * proxy-wide aggregation (its registry is listed before the workers').
 */
export function plaintextClientsGauge(registry: Registry, count?: () => number): Gauge {
  return new Gauge({
    name: 'kafka_proxy_plaintext_clients',
    help: 'Clients (client id and address) seen on a plaintext listener since the proxy started whose client id has not appeared on an authenticated listener that records access',
    registers: [registry],
    aggregator: 'first',
    ...(count ? { collect(): void { this.set(count()); } } : {}),
  });
}

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The proxy's Prometheus metrics. Labels carry listener, API and resource kind only: never
 * principals, resource names or anything from a credential, so cardinality stays bounded and
 * nothing secret can leak through a label.
 */
export class ProxyMetrics {
  readonly registry = new Registry();

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

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }
}

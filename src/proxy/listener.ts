import { isDeepStrictEqual } from 'node:util';
import { type Server, type Socket, createServer } from 'node:net';
import { PrincipalMapper } from '../auth/tls/principal-mapping.js';
import type { Logger } from 'pino';
import type { LimitsConfig, ListenerConfig } from '../config/schema.js';
import type { RevocationReason } from '../auth/credential-check.js';
import { quoted, shortened } from '../observe/client-text.js';
import { LineBudget } from '../observe/line-budget.js';
import { ListenerMetrics } from '../observe/listener-metrics.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { SaslMechanism } from '../sasl/mechanism.js';
import { SaslServer } from '../sasl/sasl-server.js';
import { ListenerAddressing } from './addressing.js';
import { type BrokerDialer, PLAINTEXT_DIALER } from './broker-dialer.js';
import { ClientSession } from './client-session.js';
import { type CloseClass, closeClassOf } from './close-class.js';
import { type Admission, ConnectionLimits, type ConnectionState } from './connection-limits.js';
import { type BudgetRefusal, ConnectionRefusals } from './connection-refusals.js';
import { type BudgetShare, MemoryBudget } from './memory-budget.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import type { ListenerAuthorization } from './listener-authorization.js';
import { certificatePrincipal } from './client-certificate.js';
import { type Handshake, type HandshakeFailure, ListenerTls } from './listener-tls.js';
import { ResponseRewriter } from './response-rewriter.js';
import type { TopicIds } from './topic-ids.js';

/** Enough to see every failure of a few misconfigured clients; the line after a flood says how many were left out. */
const AUTHENTICATION_FAILURE_LINES_PER_SECOND = 20;

/** Where a port's connections go: its name in log lines, its broker as metrics name it, and the broker addresses to try. */
interface Route {
  serves: string;
  /** The node id, or "bootstrap". */
  upstreamName: string;
  /** Tried in order; empty while the broker's address is unknown. */
  upstreams(): BrokerAddress[];
}

/** How a connection that failed its TLS handshake counts among closed connections. */
function tlsCloseClass(failure: HandshakeFailure): CloseClass {
  if (failure === 'timeout') return 'authentication-timeout';
  return failure === 'closed' ? 'client-closed' : 'tls-failed';
}

/**
 * One configured listener: a bootstrap port, whose connections go to any bootstrap server, and
 * one port per broker node, whose connections go to that broker (broker ports open as nodes
 * become known); or, with SNI routing, one port where the TLS server name says which.
 */
export class ProxyListener {
  private readonly servers = new Map<string, Server>();
  private readonly sessions = new Set<ClientSession>();
  private readonly addressing: ListenerAddressing;
  private readonly rewriter: ResponseRewriter;
  private readonly log: Logger;
  private stopping = false;
  private readonly stopPolicyUpdates: (() => void) | undefined;
  private readonly countRevoked = (reason: RevocationReason) => this.metrics.sessionsRevoked.inc({ listener: this.config.name, reason });
  private readonly connections: ConnectionLimits;
  private readonly refusals: ConnectionRefusals;
  /** Clients can fail authentication as fast as they connect: their lines are rationed per listener. */
  private readonly failureLines = new LineBudget<'authentication failed' | 'TLS handshake failed'>(AUTHENTICATION_FAILURE_LINES_PER_SECOND);
  /** Set once started, on listeners with a tls section. */
  private tls: ListenerTls | undefined;
  /** Maps client certificates to principals, on `authentication: [MTLS]` listeners. */
  private readonly certificatePrincipals: PrincipalMapper | undefined;
  private readonly accepted;
  private readonly listenerMetrics: ListenerMetrics;
  private readonly bootstrapRoute: Route = { serves: 'bootstrap', upstreamName: 'bootstrap', upstreams: () => this.bootstrap };

  constructor(
    readonly config: ListenerConfig,
    private readonly cluster: ClusterView,
    private readonly bootstrap: BrokerAddress[],
    private readonly limits: LimitsConfig,
    log: Logger,
    private readonly metrics: ProxyMetrics,
    /** The SASL mechanisms clients must authenticate with; empty for `authentication: none`. */
    private readonly mechanisms: readonly SaslMechanism[] = [],
    private readonly maxSessionMs = 0,
    /** Set when the listener enforces or audits a policy. */
    private readonly authorization?: ListenerAuthorization,
    topicIds?: TopicIds,
    /** Shared by every listener of the proxy. */
    private readonly heldResponses = new MemoryBudget(limits.maxHeldResponseBytes),
    /** Shared by every listener of the proxy. */
    private readonly preAuthBytes = new MemoryBudget(limits.maxUnauthenticatedBytes),
    /** Shared by every listener of the proxy. */
    private readonly requestBytes = new MemoryBudget(limits.maxBufferedRequestBytes),
    /** How connections to the brokers are opened (upstream.tls). */
    private readonly dialer: BrokerDialer = PLAINTEXT_DIALER,
  ) {
    this.log = log.child({ listener: config.name });
    this.accepted = metrics.connectionsAccepted.labels(config.name);
    this.listenerMetrics = new ListenerMetrics(metrics, config.name);
    this.connections = new ConnectionLimits(config.limits);
    this.refusals = new ConnectionRefusals(config.name, metrics, this.log);
    this.addressing = new ListenerAddressing(config);
    this.rewriter = new ResponseRewriter(this.addressing, cluster, this.log, topicIds);
    const mtls = config.authentication !== 'none' && config.authentication.includes('MTLS');
    this.certificatePrincipals = mtls ? PrincipalMapper.parse(config.tls!.principalMappingRules) : undefined;
    this.stopPolicyUpdates = authorization?.onPolicyChange((policy) => {
      for (const s of this.sessions) s.policyChanged(policy);
    });
  }

  /**
   * Opens the bootstrap port and the ports of every broker known so far (with SNI routing, the
   * one port). `tlsTicketKeys` encrypt TLS session tickets (see ListenerTls.start).
   */
  async start(tlsTicketKeys?: Buffer): Promise<void> {
    if (this.config.tls) {
      const expiry = this.metrics.tlsCertificateExpiry.labels(this.config.name, 'server');
      this.tls = await ListenerTls.start(this.config.tls, this.config.limits, this.log, (at) => expiry.set(at), { ticketKeys: tlsTicketKeys });
    }
    await this.listen(this.bootstrapRoute, this.config.port);
    if (this.addressing.routesBySni) return;
    for (const nodeId of this.cluster.nodeIds()) await this.openBrokerPort(nodeId);
    this.cluster.on('added', (nodeId) => {
      this.openBrokerPort(nodeId).catch((e: Error) => this.log.error({ nodeId, err: e.message }, 'cannot open the port for a new broker'));
    });
  }

  private async openBrokerPort(nodeId: number): Promise<void> {
    if (this.stopping) return;
    const port = this.addressing.portFor(nodeId);
    if (port === undefined) {
      this.log.error({ nodeId, brokerPorts: this.addressing.describe() }, 'broker node has no proxy port; clients cannot reach it');
      return;
    }
    await this.listen(this.brokerRoute(nodeId), port);
  }

  /** Where connections for one broker node go: that broker, once the proxy knows its address. */
  private brokerRoute(nodeId: number): Route {
    return {
      serves: `broker ${nodeId}`,
      upstreamName: String(nodeId),
      upstreams: () => {
        const broker = this.cluster.get(nodeId);
        return broker ? [broker] : [];
      },
    };
  }

  /**
   * Takes a reloaded listener config that needs no new sockets (its mode and limits). The limits
   * object is shared with the connection counts and read on every accept, so new connections get
   * every new value; live connections keep the timeouts and frame size they started with.
   */
  applyInPlace(next: ListenerConfig): void {
    Object.assign(this.config.limits, next.limits);
    this.connections.limitsChanged();
    const from = this.config.mode;
    const overridesChanged = !isDeepStrictEqual(next.modeOverrides, this.config.modeOverrides);
    if (next.mode === from && !overridesChanged) return;
    this.config.mode = next.mode;
    this.config.modeOverrides = next.modeOverrides;
    if (next.mode !== from) this.log.info({ from, to: next.mode }, 'listener mode changed');
    if (overridesChanged) this.log.info({ overrides: Object.keys(next.modeOverrides ?? {}).length }, 'listener mode overrides changed');
    // The listener's authorization reads the mode and overrides from this config; live sessions are told.
    if (this.authorization) for (const s of this.sessions) s.modeChanged();
  }

  /** Re-reads the TLS certificate files (SIGHUP); new connections use them, live ones carry on. */
  async reload(): Promise<void> {
    await this.tls?.reload();
  }

  private listen(route: Route, port: number): Promise<void> {
    const name = route.serves;
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket, route));
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Error(`listener "${this.config.name}" cannot listen on ${this.config.bind}:${port} (${name}): ${e.code ?? e.message}`)),
      );
      server.listen(port, this.config.bind, () => {
        this.servers.set(name, server);
        this.log.info({ port, bind: this.config.bind, serves: name }, 'listening');
        resolve();
      });
    });
  }

  private accept(socket: Socket, route: Route): void {
    this.accepted.inc();
    const ip = socket.remoteAddress;
    // No address: the client is already gone.
    if (this.stopping || ip === undefined) {
      socket.destroy();
      this.listenerMetrics.connectionClosed(this.stopping ? 'shutdown' : 'client-closed');
      return;
    }
    const authenticates = this.mechanisms.length > 0;
    // A TLS handshake is work for the proxy before it knows the client: counted as unauthenticated until done.
    const admission = this.connections.admit(ip, authenticates || this.tls ? 'unauthenticated' : 'authenticated');
    if (typeof admission === 'string') {
      // Before any read: a refused client costs an accept and a close, nothing more.
      socket.destroy();
      this.refusals.record(admission, ip);
      this.listenerMetrics.connectionClosed('limit');
      return;
    }
    if (!this.tls) {
      this.startSession(socket, ip, admission, route);
      return;
    }
    const started = Date.now();
    const handshakes = this.metrics.openConnections.labels(this.config.name, 'unauthenticated');
    handshakes.inc();
    const timeoutMs = this.config.limits.authenticationTimeoutMs;
    this.tls.handshake(socket, (result) => {
      handshakes.dec();
      if ('failed' in result) {
        this.metrics.tlsHandshakeFailures.inc({ listener: this.config.name, reason: result.failed });
        if (result.failed === 'timeout') this.metrics.authenticationTimeouts.inc({ listener: this.config.name });
        this.logTlsRefusal(`${ip}:${socket.remotePort}`, result.reason);
        admission.closed();
        this.listenerMetrics.connectionClosed(tlsCloseClass(result.failed));
        return;
      }
      if (this.stopping) {
        result.socket.destroy();
        admission.closed();
        this.listenerMetrics.connectionClosed('shutdown');
        return;
      }
      try {
        this.afterHandshake(result, ip, admission, route, timeoutMs - (Date.now() - started));
      } catch (e) {
        // A fault of the proxy's own ends this one connection, never the process.
        this.log.error({ client: `${ip}:${socket.remotePort}`, err: e instanceof Error ? e.message : String(e) }, 'cannot start a TLS session; closing the connection');
        result.socket.destroy();
        admission.closed();
        this.listenerMetrics.connectionClosed('error');
      }
    });
  }

  /** Routes a TLS connection (by its server name, with SNI routing), authenticates it by its certificate on MTLS listeners, then starts its session. */
  private afterHandshake(handshake: Handshake, ip: string, admission: Admission, route: Route, remainingMs: number): void {
    const { socket, serverName } = handshake;
    if (this.addressing.routesBySni) {
      const named = serverName === undefined ? undefined : this.addressing.route(serverName);
      if (!named) {
        this.metrics.tlsHandshakeFailures.inc({ listener: this.config.name, reason: 'unknown-server-name' });
        const reason =
          serverName === undefined ? 'no server name (SNI): connect by name to a listener with sni routing' : `server name ${quoted(serverName)} is not served by this listener`;
        this.logTlsRefusal(`${ip}:${socket.remotePort}`, reason);
        socket.destroy();
        admission.closed();
        this.listenerMetrics.connectionClosed('tls-failed');
        return;
      }
      route = named.kind === 'bootstrap' ? this.bootstrapRoute : this.brokerRoute(named.nodeId);
    }
    let principal: string | undefined;
    if (this.certificatePrincipals) {
      const found = certificatePrincipal(socket, this.certificatePrincipals);
      if ('refused' in found) {
        const line = this.failureLines.take('authentication failed');
        if (line) this.log.info({ client: `${ip}:${socket.remotePort}`, mechanism: 'MTLS', reason: found.refused, failuresNotLogged: line.notLogged }, 'authentication failed');
        this.listenerMetrics.authenticationFailed('MTLS', found.failure, false);
        socket.destroy();
        admission.closed();
        this.listenerMetrics.connectionClosed('authentication-failed');
        return;
      }
      this.listenerMetrics.authenticated('MTLS', false);
      principal = found.principal;
      this.log.debug({ client: `${ip}:${socket.remotePort}`, principal: shortened(principal), mechanism: 'MTLS' }, 'authenticated');
    }
    // Without SASL the handshake was the authentication.
    if (this.mechanisms.length === 0) admission.authenticated();
    this.startSession(socket, ip, admission, route, principal, remainingMs);
  }

  /** A refused TLS connection's line, rationed with the listener's authentication failures. */
  private logTlsRefusal(client: string, reason: string): void {
    const line = this.failureLines.take('TLS handshake failed');
    if (line) this.log.info({ client, reason, failuresNotLogged: line.notLogged }, 'TLS handshake failed');
  }

  private startSession(socket: Socket, ip: string, admission: Admission, route: Route, principal?: string, deadlineMs?: number): void {
    const authenticates = this.mechanisms.length > 0;
    // The budgets evict through the session, which exists by the time its shares are first set.
    let session: ClientSession | undefined;
    const evictable = (budget: MemoryBudget, refusal: BudgetRefusal, reason: string) =>
      budget.share(() => {
        this.refusals.record(refusal, ip);
        session?.close(reason);
      });
    const preAuthBytes = authenticates ? evictable(this.preAuthBytes, 'preauth-bytes', 'evicted: holds the most of the pre-authentication byte budget') : undefined;
    const requestBytes = evictable(this.requestBytes, 'request-bytes', 'evicted: holds the most of the request buffer budget');
    session = new ClientSession(socket, {
      log: this.log.child({ serves: route.serves }),
      limits: this.limits,
      cluster: this.cluster,
      rewriter: this.rewriter,
      heldResponses: this.heldResponses,
      upstreams: route.upstreams,
      dialer: this.dialer,
      sasl: authenticates ? new SaslServer(this.mechanisms, this.maxSessionMs) : undefined,
      certificatePrincipal: principal,
      authorization: this.authorization,
      sessionRevoked: this.countRevoked,
      unsupportedRequest: (api) => this.metrics.requestsRefused.inc({ listener: this.config.name, api, reason: 'unsupported-version' }),
      preAuthBytes,
      requestBytes,
      budgetRefused: (refusal) => this.refusals.record(refusal, ip),
      authenticationFailureLine: () => this.failureLines.take('authentication failed'),
      failedAuthenticationDelayMs: this.config.limits.failedAuthenticationDelayMs,
      metrics: this.listenerMetrics,
      upstreamName: route.upstreamName,
    });
    this.sessions.add(session);
    session.onClose(() => this.sessions.delete(session));
    this.track(session, admission, preAuthBytes, requestBytes, deadlineMs ?? this.config.limits.authenticationTimeoutMs);
    try {
      session.start();
    } catch (e) {
      // A fault of the proxy's own ends this one connection, never the process.
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'cannot start a session; closing the connection');
      session.close('internal error');
    }
  }

  /** Keeps the counts and the open-connections gauge in step with the session, and holds it to the authentication deadline. */
  private track(session: ClientSession, admission: Admission, preAuthBytes: BudgetShare | undefined, requestBytes: BudgetShare, deadlineMs: number): void {
    const gauge = (state: ConnectionState) => this.metrics.openConnections.labels(this.config.name, state);
    gauge(admission.state).inc();
    const deadline =
      admission.state === 'unauthenticated'
        ? setTimeout(() => {
            this.metrics.authenticationTimeouts.inc({ listener: this.config.name });
            session.close(`not authenticated within authenticationTimeoutMs (${this.config.limits.authenticationTimeoutMs} ms)`);
          }, Math.max(0, deadlineMs))
        : undefined;
    session.onAuthenticated(() => {
      clearTimeout(deadline);
      preAuthBytes?.release();
      gauge('unauthenticated').dec();
      gauge('authenticated').inc();
      admission.authenticated();
    });
    session.onClose((reason) => {
      clearTimeout(deadline);
      preAuthBytes?.release();
      requestBytes.release();
      gauge(admission.state).dec();
      admission.closed();
      this.listenerMetrics.connectionClosed(closeClassOf(reason));
    });
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Admitted connections still authenticating (or in their TLS handshake). */
  get unauthenticatedCount(): number {
    return this.connections.unauthenticatedConnections;
  }

  /** Bytes held in memory for this listener's connections (bounded by backpressure). */
  get bufferedBytes(): number {
    let total = 0;
    for (const s of this.sessions) total += s.bufferedBytes;
    return total;
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes whatever
   * is left.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.stopPolicyUpdates?.();
    this.tls?.stop();
    const closed = [...this.servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of this.sessions) s.drain();
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const s of [...this.sessions]) s.close('shutdown grace period over');
    await Promise.all(closed);
  }
}

import { type Server, type Socket, createServer } from 'node:net';
import type { Logger } from 'pino';
import type { LimitsConfig, ListenerConfig } from '../config/schema.js';
import type { RevocationReason } from '../auth/credential-check.js';
import { LineBudget } from '../observe/line-budget.js';
import type { ProxyMetrics } from '../observe/metrics.js';
import type { SaslMechanism } from '../sasl/mechanism.js';
import { SaslServer } from '../sasl/sasl-server.js';
import { ListenerAddressing } from './addressing.js';
import { ClientSession } from './client-session.js';
import { type Admission, ConnectionLimits, type ConnectionState } from './connection-limits.js';
import { type BudgetRefusal, ConnectionRefusals } from './connection-refusals.js';
import { type BudgetShare, MemoryBudget } from './memory-budget.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import type { ListenerAuthorization } from './listener-authorization.js';
import { ResponseRewriter } from './response-rewriter.js';
import type { TopicIds } from './topic-ids.js';

/** Enough to see every failure of a few misconfigured clients; the line after a flood says how many were left out. */
const AUTHENTICATION_FAILURE_LINES_PER_SECOND = 20;

/**
 * One configured listener: a bootstrap port, whose connections go to any bootstrap server, and
 * one port per broker node, whose connections go to that broker. Broker ports open as nodes
 * become known.
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
  private readonly failureLines = new LineBudget<'authentication failed'>(AUTHENTICATION_FAILURE_LINES_PER_SECOND);

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
  ) {
    this.log = log.child({ listener: config.name });
    this.connections = new ConnectionLimits(config.limits);
    this.refusals = new ConnectionRefusals(config.name, metrics, this.log);
    this.addressing = new ListenerAddressing(config);
    this.rewriter = new ResponseRewriter(this.addressing, cluster, this.log, topicIds);
    this.stopPolicyUpdates = authorization?.onPolicyChange((policy) => {
      for (const s of this.sessions) s.policyChanged(policy);
    });
  }

  /** Opens the bootstrap port and the ports of every broker known so far. */
  async start(): Promise<void> {
    await this.listen('bootstrap', this.config.port, () => this.bootstrap);
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
    const target = () => {
      const broker = this.cluster.get(nodeId);
      return broker ? [broker] : [];
    };
    await this.listen(`broker ${nodeId}`, port, target);
  }

  private listen(name: string, port: number, upstreams: () => BrokerAddress[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket, name, upstreams));
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

  private accept(socket: Socket, serves: string, upstreams: () => BrokerAddress[]): void {
    const ip = socket.remoteAddress;
    // No address: the client is already gone.
    if (this.stopping || ip === undefined) {
      socket.destroy();
      return;
    }
    const authenticates = this.mechanisms.length > 0;
    const admission = this.connections.admit(ip, authenticates ? 'unauthenticated' : 'authenticated');
    if (typeof admission === 'string') {
      // Before any read: a refused client costs an accept and a close, nothing more.
      socket.destroy();
      this.refusals.record(admission, ip);
      return;
    }
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
      log: this.log.child({ serves }),
      limits: this.limits,
      cluster: this.cluster,
      rewriter: this.rewriter,
      heldResponses: this.heldResponses,
      upstreams,
      sasl: authenticates ? new SaslServer(this.mechanisms, this.maxSessionMs) : undefined,
      authorization: this.authorization,
      sessionRevoked: this.countRevoked,
      unsupportedRequest: (api) => this.metrics.requestsRefused.inc({ listener: this.config.name, api, reason: 'unsupported-version' }),
      preAuthBytes,
      requestBytes,
      budgetRefused: (refusal) => this.refusals.record(refusal, ip),
      authenticationFailureLine: () => this.failureLines.take('authentication failed'),
      failedAuthenticationDelayMs: this.config.limits.failedAuthenticationDelayMs,
    });
    this.sessions.add(session);
    session.onClose(() => this.sessions.delete(session));
    this.track(session, admission, preAuthBytes, requestBytes);
    try {
      session.start();
    } catch (e) {
      // A fault of the proxy's own ends this one connection, never the process.
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'cannot start a session; closing the connection');
      session.close('internal error');
    }
  }

  /** Keeps the counts and the open-connections gauge in step with the session, and holds it to the authentication deadline. */
  private track(session: ClientSession, admission: Admission, preAuthBytes: BudgetShare | undefined, requestBytes: BudgetShare): void {
    const gauge = (state: ConnectionState) => this.metrics.openConnections.labels(this.config.name, state);
    gauge(admission.state).inc();
    const deadline =
      admission.state === 'unauthenticated'
        ? setTimeout(() => {
            this.metrics.authenticationTimeouts.inc({ listener: this.config.name });
            session.close(`not authenticated within authenticationTimeoutMs (${this.config.limits.authenticationTimeoutMs} ms)`);
          }, this.config.limits.authenticationTimeoutMs)
        : undefined;
    session.onAuthenticated(() => {
      clearTimeout(deadline);
      preAuthBytes?.release();
      gauge('unauthenticated').dec();
      gauge('authenticated').inc();
      admission.authenticated();
    });
    session.onClose(() => {
      clearTimeout(deadline);
      preAuthBytes?.release();
      requestBytes.release();
      gauge(admission.state).dec();
      admission.closed();
    });
  }

  get connectionCount(): number {
    return this.sessions.size;
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
    const closed = [...this.servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of this.sessions) s.drain();
    const deadline = Date.now() + graceMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const s of [...this.sessions]) s.close('shutdown grace period over');
    await Promise.all(closed);
  }
}

import { type Server, type Socket, createServer } from 'node:net';
import type { Logger } from 'pino';
import type { LimitsConfig, ListenerConfig } from '../config/schema.js';
import type { SaslMechanism } from '../sasl/mechanism.js';
import { SaslServer } from '../sasl/sasl-server.js';
import { ListenerAddressing } from './addressing.js';
import { ClientSession } from './client-session.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import type { ListenerAuthorization } from './listener-authorization.js';
import { ResponseRewriter } from './response-rewriter.js';
import type { TopicIds } from './topic-ids.js';

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

  constructor(
    readonly config: ListenerConfig,
    private readonly cluster: ClusterView,
    private readonly bootstrap: BrokerAddress[],
    private readonly limits: LimitsConfig,
    log: Logger,
    /** The SASL mechanisms clients must authenticate with; empty for `authentication: none`. */
    private readonly mechanisms: readonly SaslMechanism[] = [],
    private readonly maxSessionMs = 0,
    /** Set when the listener enforces or audits a policy. */
    private readonly authorization?: ListenerAuthorization,
    topicIds?: TopicIds,
  ) {
    this.log = log.child({ listener: config.name });
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
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const session = new ClientSession(socket, {
      log: this.log.child({ serves }),
      limits: this.limits,
      cluster: this.cluster,
      rewriter: this.rewriter,
      upstreams,
      sasl: this.mechanisms.length ? new SaslServer(this.mechanisms, this.maxSessionMs) : undefined,
      authorization: this.authorization,
    });
    this.sessions.add(session);
    session.onClose(() => this.sessions.delete(session));
    session.start();
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

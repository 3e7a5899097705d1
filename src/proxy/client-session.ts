import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { LimitsConfig } from '../config/schema.js';
import { ProtocolError } from '../protocol/errors.js';
import { FrameSplitter } from '../protocol/frame-splitter.js';
import { API_KEYS, APIS } from '../protocol/generated/apis.js';
import { readRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import type { CompiledPolicy } from '../authz/compiled-policy.js';
import type { RevocationReason } from '../auth/credential-check.js';
import type { SaslServer, SaslStep } from '../sasl/sasl-server.js';
import { type BrokerDialer, describeTlsError } from './broker-dialer.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import { CLIENT_API_RANGES, isOfferedVersion } from './client-apis.js';
import { apiVersionsAnswer, unsupportedApiVersionsAnswer } from './local-answers.js';
import { ANONYMOUS, type ListenerAuthorization, type ListenerMode } from './listener-authorization.js';
import { RolesPhase, type SessionRoles, sessionRoles } from '../roles/session-roles.js';
import { produceAcks } from './produce-acks.js';
import type { RequestAuthorizer, RequestDecision, ResponseEdit } from './request-authorizer.js';
import type { ResponseSplice } from './response-pipeline.js';
import type { BudgetShare, MemoryBudget } from './memory-budget.js';
import type { BudgetRefusal } from './connection-refusals.js';
import type { LineAllowed } from '../observe/line-budget.js';
import type { ListenerMetrics } from '../observe/listener-metrics.js';
import { shortened } from '../observe/client-text.js';
import { PASS_THROUGH, ResponsePipeline, ResponsePipelineError, type ResponseHandling } from './response-pipeline.js';
import type { ResponseRewriter } from './response-rewriter.js';

/** A session on a listener without a roles source. */
const NO_SERVICE_ROLES: SessionRoles = { roles: [], offline: undefined };

/** api key, version and correlation id sit at fixed offsets after the size prefix. */
const MIN_REQUEST_FRAME = 4 + 8;
/** What pass-through traffic may leave in a paused client's write buffer: one socket read past the high-water mark. */
const UNCOUNTED_BACKLOG_BYTES = 128 * 1024;
/** How long a closing connection may take to flush its last answer. */
const FLUSH_TIMEOUT_MS = 5000;

export interface SessionContext {
  log: Logger;
  limits: LimitsConfig;
  cluster: ClusterView;
  rewriter: ResponseRewriter;
  /** Bytes of broker responses the whole proxy may hold to rewrite them. */
  heldResponses: MemoryBudget;
  /**
   * Where this connection's requests may go, tried in order until one accepts (the bootstrap
   * port fails over across the configured servers); empty when the broker is unknown.
   */
  upstreams(): BrokerAddress[];
  /** Opens the broker connection: plaintext, or TLS with upstream.tls. */
  dialer: BrokerDialer;
  /** Present on listeners that authenticate: this connection's SASL server. */
  sasl: SaslServer | undefined;
  /** On MTLS listeners: the principal the client's certificate maps to. */
  certificatePrincipal?: string;
  /** Present on listeners that enforce or audit a policy. */
  authorization: ListenerAuthorization | undefined;
  /** Counts a session ended because a reload took its credential away. */
  sessionRevoked(reason: RevocationReason): void;
  /** Counts a request for an API or version the proxy does not offer (`api` is a known name or "unknown"). */
  unsupportedRequest(api: string): void;
  /** On authenticating listeners: what an incomplete frame holds counts here until the client authenticates. */
  preAuthBytes: BudgetShare | undefined;
  /** What an incomplete frame holds once the client may send requests (from the start on `authentication: none`). */
  requestBytes: BudgetShare;
  /** Counts a connection closed because a proxy-wide budget had no room for what it asked. */
  budgetRefused(refusal: BudgetRefusal): void;
  /** A line of the listener's ration for 'authentication failed', or undefined when it is spent for now. */
  authenticationFailureLine(): LineAllowed | undefined;
  /** How long a failed authentication waits for its answer (Kafka's connection.failed.authentication.delay.ms). */
  failedAuthenticationDelayMs: number;
  /** The listener's metrics, which the session records into. */
  metrics: ListenerMetrics;
  /** The broker behind this port, as kafka_proxy_broker_connection_failures_total names it: its node id, or "bootstrap". */
  upstreamName: string;
}

type PauseReason = 'upstream-busy' | 'client-busy' | 'in-flight' | 'draining' | 'waiting';

/**
 * One client connection and its own connection to a broker. Requests are forwarded as they
 * came, pipelined; responses stream back in order, and only those that name brokers are held
 * and rewritten. On an authenticating listener the SASL exchange is answered by the proxy
 * itself and the broker connection opens only once the client is authenticated. Backpressure
 * either way pauses the other side; nothing grows without bound.
 */
export class ClientSession {
  private upstream: Socket | undefined;
  private readonly requests: FrameSplitter;
  /** Every response owed to the client, the broker's and the proxy's own, released in request order. */
  private readonly owed: ResponsePipeline;
  /** Answers written but not yet taken by a client that does not read: counted with the held responses. */
  private readonly backlog: BudgetShare;
  private clientId: string | null = null;
  private closed = false;
  private readonly clientPaused = new Set<PauseReason>();
  private log: Logger;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private readonly authenticatedListeners: (() => void)[] = [];
  private readonly sasl: SaslServer | undefined;
  /** Set while the session waits (a SASL step, a broker connection, topic ids): later frames wait uncut. */
  private waiting = false;
  /** Set once the connection is to close after its owed answers: why. */
  private closing: string | undefined;
  /** Decides each request once the principal is known, where the listener has a policy. */
  private authorizer: RequestAuthorizer | undefined;
  /** This session's mode (its principal's override, else the listener's), set with the authorizer. */
  private mode: ListenerMode = 'enforce';
  /** The roles its credential carries; the service's are added to them. */
  private credentialRoles: readonly string[] = [];
  /** What the session last decided with from the roles source: the phase and version seen (undefined: nothing yet). */
  private rolesPhase: RolesPhase | undefined;
  private rolesVersion = -1;
  private readonly clientAddress: string;
  /** When (performance.now()) the latest chunk from the client arrived: the frames it completed were read then. */
  private readAtMs = 0;
  /** When the SaslHandshake of the exchange under way was read. */
  private saslStartedAtMs: number | undefined;
  private upstreamConnected = false;
  /** onRequest for the frame splitter, made once rather than a closure per read. */
  private readonly takeRequest = (frame: Buffer): void => this.onRequest(frame);

  constructor(
    private readonly client: Socket,
    private readonly ctx: SessionContext,
  ) {
    this.clientAddress = `${client.remoteAddress}:${client.remotePort}`;
    this.log = ctx.log.child(ctx.certificatePrincipal === undefined ? { client: this.clientAddress } : { client: this.clientAddress, principal: shortened(ctx.certificatePrincipal) });
    this.sasl = ctx.sasl;
    if (!this.sasl && ctx.authorization) {
      const principal = ctx.certificatePrincipal ?? ANONYMOUS;
      this.authorizer = ctx.authorization.authorizerFor(principal, [], this.clientAddress, null);
      this.mode = ctx.authorization.settle(this.authorizer.access);
      // A certificate's principal gets its roles from the service too; ANONYMOUS has only its bindings.
      const lookup = ctx.certificatePrincipal === undefined ? undefined : this.authorizeAs(principal, []);
      if (lookup) this.hold(lookup, () => {});
    }
    this.requests = new FrameSplitter(this.sasl ? ctx.limits.maxUnauthenticatedRequestBytes : ctx.limits.maxRequestBytes);
    const evicted = () => {
      this.ctx.budgetRefused('held-responses');
      this.close('evicted: holds the most of the held-response budget');
    };
    this.owed = new ResponsePipeline(
      (bytes) => this.toClient(bytes),
      (frame, how) => this.ctx.rewriter.rewrite(frame, how.apiKey, how.version, how.edit, how.brokerVersion),
      ctx.heldResponses.share(evicted),
      (apiKey, readAtMs) => this.ctx.metrics.responseReady(apiKey, readAtMs),
    );
    this.backlog = ctx.heldResponses.share(evicted);
  }

  /** Bytes this connection holds in memory: unsent either way plus an incomplete request. */
  get bufferedBytes(): number {
    return this.client.writableLength + (this.upstream?.writableLength ?? 0) + this.requests.bufferedBytes;
  }

  /** Who the client authenticated as, on authenticating listeners. */
  get principal(): string | undefined {
    return this.sasl?.identity?.principal ?? this.ctx.certificatePrincipal;
  }

  /** A new policy applies from this connection's next request on, without reconnecting. */
  policyChanged(policy: CompiledPolicy): void {
    this.authorizer?.access.update(policy);
  }

  /** A listener mode or mode override switched by a reload applies from this connection's next request on. */
  modeChanged(): void {
    if (this.authorizer) this.mode = this.ctx.authorization!.settle(this.authorizer.access);
  }

  /** `listener` gets the reason the connection closed with. */
  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  /** Runs once, when the client first authenticates (not on re-authentication). */
  onAuthenticated(listener: () => void): void {
    this.authenticatedListeners.push(listener);
  }

  start(): void {
    this.client.setNoDelay(true);
    this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.client.on('drain', () => {
      this.accountBacklog();
      if (this.upstream?.isPaused()) this.upstream.resume();
      this.resumeClient('client-busy');
    });
    this.client.on('error', (e) => this.close(`client connection failed: ${e.message}`));
    this.client.on('close', () => this.close('client closed the connection'));
    this.client.setTimeout(this.ctx.limits.idleTimeoutMs, () => this.close('idle timeout'));
    if (!this.sasl) this.hold(this.openUpstream(), () => {});
  }

  /** Connects to the broker; settles once connected or once the session is closed for want of one. */
  private openUpstream(): Promise<void> {
    const targets = this.ctx.upstreams();
    if (targets.length === 0) {
      this.log.warn('no broker behind this port is known; closing the connection');
      this.close('unknown broker');
      return Promise.resolve();
    }
    return new Promise((settled) => this.connectUpstream(targets, 0, settled));
  }

  private connectUpstream(targets: BrokerAddress[], index: number, settled: () => void): void {
    if (this.closed) {
      settled();
      return;
    }
    const target = targets[index];
    const address = `${target.host}:${target.port}`;
    let connected = false;
    const failed = (why: string) => {
      if (connected || this.closed) return;
      this.ctx.metrics.brokerConnectFailed(this.ctx.upstreamName);
      upstream.destroy();
      if (index + 1 < targets.length) {
        this.log.warn({ broker: address, reason: why }, 'broker unreachable; trying the next bootstrap server');
        this.connectUpstream(targets, index + 1, settled);
      } else {
        this.close(`no broker reachable (last tried ${address}: ${why})`);
        settled();
      }
    };
    const timer = setTimeout(() => failed('connect timeout'), this.ctx.limits.connectTimeoutMs);
    this.onClose(() => clearTimeout(timer));
    const ready = () => {
      connected = true;
      this.upstreamConnected = true;
      this.ctx.metrics.upstreamOpened();
      clearTimeout(timer);
      this.log.debug({ broker: address }, 'connection open');
      upstream.on('error', (e) => this.close(`broker connection failed: ${describeTlsError(e)}`));
      upstream.on('close', () => this.close('broker closed the connection'));
      settled();
    };
    const upstream = this.ctx.dialer.dial(target.host, target.port, ready, (why, handshake) => {
      clearTimeout(timer);
      // A refused certificate is a configuration fault, not an outage: said once per connection, with the TLS code.
      if (handshake && !this.closed) this.log.warn({ broker: address, reason: why }, 'TLS handshake with the broker failed');
      failed(why);
    });
    this.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    upstream.on('drain', () => this.resumeClient('upstream-busy'));
  }

  /** Stops taking requests and closes once every outstanding response has been delivered. */
  drain(): void {
    this.closeAfterOwed('proxy shutting down');
  }

  /** Takes no further requests and closes once the client has every answer it is owed. */
  private closeAfterOwed(reason: string): void {
    this.closing = reason;
    this.pauseClient('draining');
    if (this.owed.length === 0) this.close(reason, true);
  }

  /** Closes both connections; `flush` lets the client receive what was already written. */
  close(reason: string, flush = false): void {
    if (this.closed) return;
    this.closed = true;
    this.log.info({ reason, inFlight: this.owed.length }, 'connection closed');
    if (flush) {
      // Half-close after what was written; keep reading (and dropping) so the peer's FIN is seen,
      // and give up on a peer that never closes its side.
      this.client.end();
      this.client.resume();
      setTimeout(() => this.client.destroy(), FLUSH_TIMEOUT_MS).unref();
    } else {
      this.client.destroy();
    }
    this.upstream?.destroy();
    if (this.upstreamConnected) this.ctx.metrics.upstreamClosed();
    this.owed.dispose();
    this.backlog.release();
    for (const l of this.closeListeners) l(reason);
  }

  private fromClient(chunk: Buffer): void {
    if (this.closed) return;
    this.readAtMs = performance.now();
    this.ctx.metrics.bytesReceived.n += chunk.length;
    this.upstream?.cork();
    try {
      this.requests.push(chunk, this.takeRequest);
      this.accountBufferedBytes();
    } catch (e) {
      this.fail(e);
    } finally {
      this.upstream?.uncork();
    }
    this.checkUpstreamBacklog();
  }

  /** Before authentication, an incomplete frame counts against the proxy-wide budget; past it the connection goes. */
  /** What the frame splitter holds, against the proxy-wide budgets (after each read, and once held frames are cut). */
  private accountBufferedBytes(): void {
    this.holdPreAuthBytes();
    this.holdRequestBytes();
  }

  private holdPreAuthBytes(): void {
    const share = this.ctx.preAuthBytes;
    if (!share || this.closed || this.sasl?.authenticated) return;
    this.holdInBudget(share, this.requests.bufferedBytes, 'preauth-bytes', 'pre-authentication byte budget exhausted');
  }

  /** Once requests may be sent, an incomplete frame counts against the proxy-wide request budget; past it the connection goes. */
  private holdRequestBytes(): void {
    if (this.closed || (this.sasl && !this.sasl.authenticated)) return;
    this.holdInBudget(this.ctx.requestBytes, this.requests.bufferedBytes, 'request-bytes', 'request buffer budget exhausted');
  }

  /** `retried`: the second pass of a request that waited for topic ids; `readAtMs`: when its last byte was read. */
  private onRequest(frame: Buffer, retried = false, readAtMs = this.readAtMs): void {
    if (this.closed || this.closing !== undefined) return;
    const sasl = this.sasl;
    if (sasl && !sasl.authenticated) {
      this.handleSasl(sasl, frame);
      return;
    }
    if (frame.length < MIN_REQUEST_FRAME) throw new ProtocolError('truncated', `request frame of ${frame.length - 4} bytes has no header`);
    const apiKey = frame.readInt16BE(4);
    const version = frame.readInt16BE(6);
    const correlationId = frame.readInt32BE(8);
    if (this.clientId === null) this.noteClientId(frame);
    if (sasl) {
      // Re-authentication is let through even after the session ended, as a broker does: clients
      // re-authenticate only when they next have a request to send.
      if (sasl.intercepts(apiKey)) {
        // Re-authentication is held to the pre-authentication frame limit, not maxRequestBytes.
        const limit = this.ctx.limits.maxUnauthenticatedRequestBytes;
        if (frame.length - 4 > limit) throw new ProtocolError('frame-too-large', `SASL frame of ${frame.length - 4} bytes exceeds the limit of ${limit}`);
        this.handleSasl(sasl, frame);
        return;
      }
      const now = Date.now();
      if (sasl.expired(now)) {
        // A broker closes, without an answer, on the first request after the session ended.
        this.log.info('session expired without re-authentication');
        this.close('session expired');
        return;
      }
      const change = sasl.recheckCredential(now);
      if (change?.kind === 'revoked') {
        // Ended as an expired session is: no answer. The reason is a class, never the credential.
        this.log.info({ reason: change.reason }, 'session revoked by a credential reload');
        this.ctx.sessionRevoked(change.reason);
        this.close('session revoked');
        return;
      }
      if (change) this.authorizeAs(sasl.identity!.principal, change.roles);
    }
    if (this.authorizer && this.ctx.authorization!.rolesSource) this.followServiceRoles(this.authorizer.access.principal);
    if (!this.upstream) {
      // An authenticated connection reaches for its broker with its first request: one that stays idle holds no broker connection.
      this.hold(this.openUpstream(), () => this.onRequest(frame, retried, readAtMs));
      return;
    }
    if (!retried) this.ctx.metrics.requestTaken(apiKey);
    if (!isOfferedVersion(apiKey, version)) {
      this.refuseVersion(apiKey, version, correlationId);
      return;
    }
    const expectsResponse = apiKey !== API_KEYS.Produce || produceAcks(frame, version) !== 0;
    let edit: ResponseEdit | undefined;
    let splice: ResponseSplice | undefined;
    let brokerVersion: number | undefined;
    if (this.authorizer && this.mode !== 'allow-all') {
      const decision = this.decide(this.authorizer, frame, apiKey, version, retried);
      if (decision === undefined) return;
      switch (decision.kind) {
        case 'wait':
          this.hold(decision.ready, () => this.onRequest(frame, true, readAtMs));
          return;
        case 'answer':
          if (decision.verdict) this.ctx.metrics.decided(apiKey, decision.verdict, this.authorizer.access.mode);
          if (expectsResponse) {
            this.ctx.metrics.responseReady(apiKey, readAtMs);
            this.answer(correlationId, decision.frame);
          } else {
            this.dropDeniedProduce();
          }
          return;
        case 'forward':
          if (decision.verdict) this.ctx.metrics.decided(apiKey, decision.verdict, this.authorizer.access.mode);
          frame = decision.frame;
          edit = decision.edit;
          splice = decision.splice;
          brokerVersion = decision.brokerVersion;
      }
    }
    if (expectsResponse) {
      this.owed.expect(correlationId, this.handling(apiKey, version, edit, splice, brokerVersion));
      if (this.owed.length >= this.ctx.limits.maxInFlightRequests) this.pauseClient('in-flight');
    }
    this.ctx.metrics.requestForwarded(apiKey, readAtMs);
    this.upstream!.write(frame);
    // Corked, the frames of one read leave together at uncork, and the backlog is judged then.
    if (!this.upstream!.writableCorked) this.checkUpstreamBacklog();
  }

  /**
   * Stops reading the client while the broker connection holds a write buffer's worth it could
   * not send. Judged after the writes of a read have gone to the socket, not by what write()
   * returns while corked: that is false for any request over the buffer's 16 KiB, and would
   * pause and resume the client on every large Produce.
   */
  private checkUpstreamBacklog(): void {
    const upstream = this.upstream;
    if (upstream && !this.closed && upstream.writableLength >= upstream.writableHighWaterMark) this.pauseClient('upstream-busy');
  }

  private handling(
    apiKey: number,
    version: number,
    edit: ResponseEdit | undefined,
    splice: ResponseSplice | undefined,
    brokerVersion: number | undefined,
  ): ResponseHandling {
    if (splice) return { kind: 'splice', apiKey, splice };
    if (edit || brokerVersion !== undefined || this.ctx.rewriter.needsRewrite(apiKey, version)) return { kind: 'rewrite', apiKey, version, edit, brokerVersion };
    return PASS_THROUGH;
  }

  /** Runs the authorizer; a failure of its own (not of the client's bytes) closes just this connection. */
  private decide(authorizer: RequestAuthorizer, frame: Buffer, apiKey: number, version: number, retried: boolean): RequestDecision | undefined {
    try {
      return authorizer.decide(frame, apiKey, version, retried);
    } catch (e) {
      if (e instanceof ProtocolError) throw e;
      this.log.error({ err: (e as Error).message, api: APIS[apiKey].name, version }, 'cannot authorize a request; closing the connection');
      this.close('authorization failed internally');
      return undefined;
    }
  }

  /** An acks=0 Produce gets no response to carry an error, so a fully denied one is dropped, as a broker does. */
  private dropDeniedProduce(): void {
    this.ctx.authorization!.metrics.droppedProduce.inc({ listener: this.ctx.authorization!.listener });
    this.log.debug('acks=0 produce request denied for every topic; dropped');
  }

  /** Runs one SASL step; frames arriving meanwhile wait, as the exchange is strictly sequential. */
  private handleSasl(sasl: SaslServer, frame: Buffer): void {
    if (this.clientId === null && frame.length >= MIN_REQUEST_FRAME && !sasl.authenticated) this.tryNoteClientId(frame);
    const readAtMs = performance.now();
    this.hold(
      sasl.handle(frame).then((step) => this.applySaslStep(step, sasl.authenticated, readAtMs)),
      () => {},
    );
  }

  /** Takes no new requests until `work` settles, then runs `next` and the requests that arrived meanwhile, in order. */
  private hold(work: Promise<unknown>, next: () => void): void {
    this.waiting = true;
    this.pauseClient('waiting');
    let done = false;
    work
      .then(() => (done = true))
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        if (this.closed) return;
        this.waiting = false;
        try {
          if (done) next();
        } catch (e) {
          this.fail(e);
        }
        // `next` may have started another wait; the frames behind it wait for that one too.
        if (!this.waiting) this.resumeClient('waiting');
      });
  }

  /**
   * Nothing may escape a socket, timer or promise handler: a client's bad bytes, or a fault of the
   * proxy's own (a bug, an exhausted stack), end only this connection.
   */
  private fail(e: unknown): void {
    if (e instanceof ProtocolError) {
      this.log.warn({ err: e.message, code: e.code }, 'malformed request; closing the connection');
      this.close('malformed request');
      return;
    }
    this.internalError(e);
  }

  private internalError(e: unknown): void {
    this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'internal error; closing the connection');
    this.close('internal error');
  }

  /** `authenticated`: whether the connection is authenticated after the step; `readAtMs`: when its request was read. */
  private applySaslStep(step: SaslStep, authenticated: boolean, readAtMs: number): void | Promise<void> {
    if (this.closed) return;
    switch (step.kind) {
      case 'api-versions': {
        const range = CLIENT_API_RANGES[API_KEYS.ApiVersions]!;
        this.answer(
          step.correlationId,
          step.version > range.maxVersion
            ? unsupportedApiVersionsAnswer(step.correlationId, this.ctx.cluster.apiVersions)
            : apiVersionsAnswer(step.correlationId, step.version, this.ctx.cluster.apiVersions),
        );
        return;
      }
      case 'reply':
        // A mechanism was chosen: the exchange is timed from here.
        this.saslStartedAtMs = readAtMs;
        if (step.reply) this.answer(frameCorrelationId(step.reply), step.reply);
        return;
      case 'fail': {
        // A failed re-authentication leaves the session authenticated (until it closes).
        this.ctx.metrics.authenticationFailed(step.mechanism, step.failure, authenticated);
        const startedAtMs = this.saslStartedAtMs;
        this.saslStartedAtMs = undefined;
        const line = this.ctx.authenticationFailureLine();
        // After the first authentication the connection's log lines carry its principal already; a failed re-authentication names what it tried.
        const who = this.principal === undefined ? { principal: step.principal } : { attemptedPrincipal: step.principal };
        if (line) this.log.info({ mechanism: step.mechanism, ...who, reason: step.reason, failuresNotLogged: line.notLogged }, 'authentication failed');
        // The answer waits, as a broker's does, so a client retrying in a loop cannot spin; the
        // session takes nothing else meanwhile (this step holds it).
        return this.delay(this.ctx.failedAuthenticationDelayMs).then(() => {
          if (this.closed) return;
          if (step.reply) {
            if (startedAtMs !== undefined && step.mechanism !== undefined) this.ctx.metrics.authenticationAnswered(step.mechanism, startedAtMs);
            this.answer(frameCorrelationId(step.reply), step.reply);
          }
          // Requests pipelined before the failed re-authentication still get their answers first.
          // The reason is on the 'authentication failed' line already: closing names only the class.
          this.closeAfterOwed('authentication failed');
        });
      }
      case 'authenticated': {
        const { identity, reauthentication } = step;
        this.ctx.metrics.authenticated(identity.mechanism, reauthentication);
        if (this.saslStartedAtMs !== undefined) this.ctx.metrics.authenticationAnswered(identity.mechanism, this.saslStartedAtMs);
        this.saslStartedAtMs = undefined;
        this.log = this.log.child(reauthentication ? {} : { principal: identity.principal });
        this.log.debug({ mechanism: identity.mechanism, roles: identity.roles, reauthentication }, 'authenticated');
        this.requests.maxFrameSize = this.ctx.limits.maxRequestBytes;
        // A v0 (raw) reply has no correlation id; nothing else is owed before it either way.
        if (reauthentication) this.answer(frameCorrelationId(step.reply), step.reply);
        else this.toClient(step.reply);
        if (!reauthentication) for (const l of this.authenticatedListeners) l();
        // Requests wait (this step holds the session) until the roles service has answered or failed.
        return this.authorizeAs(identity.principal, identity.roles);
      }
    }
  }

  /** Settles after `ms`, or at once if the session closes first, so no timer outlives it. */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.onClose(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sends a response the proxy produced itself, in its turn after any responses still owed before it. */
  private answer(correlationId: number, frame: Buffer): void {
    this.owed.answer(correlationId, frame);
    this.accountBacklog();
    // A client that does not read its answers must stop being read, or they would pile up here.
    if (this.client.writableNeedDrain) this.pauseClient('client-busy');
    if (this.owed.length >= this.ctx.limits.maxInFlightRequests) this.pauseClient('in-flight');
  }

  /**
   * Decisions from now on are for this principal with its credential's roles (a re-authentication
   * or a credentials reload may bring new ones) and, with a roles source, the service's: once it
   * has answered or failed, so the returned promise is to be waited on.
   */
  private authorizeAs(principal: string, credentialRoles: readonly string[]): void | Promise<void> {
    this.credentialRoles = credentialRoles;
    const source = this.ctx.authorization?.rolesSource;
    if (!source) return this.authorize(principal);
    return source.lookup(principal).then(() => {
      if (!this.closed) this.authorize(principal);
    });
  }

  /** On each request: a refreshed answer of the service, or its failure, applies from this request on. */
  private followServiceRoles(principal: string): void {
    const source = this.ctx.authorization!.rolesSource!;
    const known = source.peek(principal);
    if (source.phase(known, Date.now()) !== this.rolesPhase || (known?.version ?? -1) !== this.rolesVersion) this.authorize(principal);
  }

  /** The service's roles for this session now, as its listener's rolesOffline has it when they are not fresh. */
  private serviceRoles(authorization: ListenerAuthorization, principal: string): SessionRoles {
    const source = authorization.rolesSource;
    if (!source) return NO_SERVICE_ROLES;
    const known = source.peek(principal);
    const phase = source.phase(known, Date.now());
    const wasFresh = this.rolesPhase === RolesPhase.Fresh || this.rolesPhase === undefined;
    this.rolesPhase = phase;
    this.rolesVersion = known?.version ?? -1;
    if (phase !== RolesPhase.Fresh && wasFresh) {
      const offline = authorization.rolesOffline;
      source.metrics.offlineSessions.inc({ listener: authorization.listener, mode: offline });
      this.log.info({ rolesOffline: offline, lastKnownAgeSeconds: known && Math.round((Date.now() - known.fetchedAt) / 1000) }, 'no fresh roles from the roles source; the session follows rolesOffline');
    } else if (phase === RolesPhase.Fresh && !wasFresh) {
      this.log.info('fresh roles from the roles source again');
    }
    return sessionRoles(known, phase, authorization.rolesOffline);
  }

  /** Decisions from now on are for this principal, its credential's roles and the service's. */
  private authorize(principal: string): void {
    const authorization = this.ctx.authorization;
    if (!authorization) return;
    const service = this.serviceRoles(authorization, principal);
    const roles = service.roles.length ? [...this.credentialRoles, ...service.roles] : this.credentialRoles;
    if (this.authorizer) this.authorizer.access.update(authorization.policy, principal, roles);
    else this.authorizer = authorization.authorizerFor(principal, roles, this.clientAddress, this.clientId);
    this.mode = authorization.settle(this.authorizer.access, service.offline);
    const { ignoredRoles } = this.authorizer.access.grants;
    // Often a typo in the token's claim or the policy.
    if (ignoredRoles.length) this.log.debug({ ignoredRoles }, 'credential names roles the policy does not define');
  }

  private noteClientId(frame: Buffer): void {
    // Cut once: the id goes into this connection's log lines and its denial lines.
    this.clientId = shortened(readRequestHeader(new Reader(frame, 4)).clientId ?? '');
    this.log = this.log.child({ clientId: this.clientId });
    if (this.authorizer) this.authorizer.access.clientId = this.clientId;
  }

  private tryNoteClientId(frame: Buffer): void {
    try {
      this.noteClientId(frame);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  }

  /**
   * A request the proxy cannot decode is never forwarded. ApiVersions at an unknown version gets
   * the answer a broker would give; anything else closes the connection, as a broker does.
   */
  private refuseVersion(apiKey: number, version: number, correlationId: number): void {
    const range = CLIENT_API_RANGES[apiKey];
    if (apiKey === API_KEYS.ApiVersions && range && version > range.maxVersion) {
      this.answer(correlationId, unsupportedApiVersionsAnswer(correlationId, this.ctx.cluster.apiVersions));
      return;
    }
    this.log.warn({ api: APIS[apiKey]?.name ?? apiKey, version }, 'request for an API or version the proxy does not offer; closing the connection');
    this.ctx.unsupportedRequest(APIS[apiKey]?.name ?? 'unknown');
    this.close('unsupported request');
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.closed) return;
    const owedBefore = this.owed.length;
    this.client.cork();
    try {
      this.owed.push(chunk);
    } catch (e) {
      // Never pass on a response that cannot be matched to its request or may still hold what must be rewritten.
      if (e instanceof ProtocolError || e instanceof ResponsePipelineError) {
        this.log.error({ err: e.message }, 'cannot pass on a broker response; closing the connection');
        this.close('broker response refused');
      } else {
        this.internalError(e);
      }
      return;
    } finally {
      this.client.uncork();
    }
    this.checkClientBacklog();
    this.accountBacklog();
    if (this.owed.length < owedBefore) this.responsesDelivered();
  }

  /**
   * A rewritten response or the proxy's own answer can be far larger than the request that asked
   * for it; until the client takes it, it is counted against the held-response budget. Pass-through
   * bytes stop at one socket read past the high-water mark (the broker side pauses), so a backlog
   * that small is not counted.
   */
  private accountBacklog(): void {
    if (this.closed) return;
    this.holdInBudget(this.backlog, Math.max(0, this.client.writableLength - UNCOUNTED_BACKLOG_BYTES), 'held-responses', 'held-response budget exhausted');
  }

  /** Sets what this connection holds in one of the proxy-wide budgets; with no room for it, the connection goes. */
  private holdInBudget(share: BudgetShare, bytes: number, refusal: BudgetRefusal, reason: string): void {
    if (share.set(bytes)) return;
    this.ctx.budgetRefused(refusal);
    this.close(reason);
  }

  private toClient(bytes: Buffer): void {
    if (this.closed) return;
    this.ctx.metrics.bytesSent.n += bytes.length;
    this.client.write(bytes);
    if (!this.client.writableCorked) this.checkClientBacklog();
  }

  /** Stops reading the broker while the client has a write buffer's worth not yet taken (as checkUpstreamBacklog, the other way). */
  private checkClientBacklog(): void {
    if (!this.closed && this.client.writableLength >= this.client.writableHighWaterMark) this.upstream?.pause();
  }

  private responsesDelivered(): void {
    if (this.owed.length < this.ctx.limits.maxInFlightRequests) this.resumeClient('in-flight');
    if (this.closing !== undefined && this.owed.length === 0) this.close(this.closing, true);
  }

  /**
   * Stops taking requests, as a broker mutes a connection: the socket is not read, and what was
   * already read stays bytes, uncut, so a paused client holds at most one read beyond its frame.
   */
  private pauseClient(reason: PauseReason): void {
    this.clientPaused.add(reason);
    this.client.pause();
    this.requests.stop();
  }

  private resumeClient(reason: PauseReason): void {
    // A drain or a delivered response where the client was not paused for it changes nothing.
    if (!this.clientPaused.delete(reason) || this.clientPaused.size !== 0 || this.closed) return;
    this.upstream?.cork();
    try {
      this.requests.resume(this.takeRequest);
      this.accountBufferedBytes();
    } catch (e) {
      this.fail(e);
    } finally {
      this.upstream?.uncork();
    }
    this.checkUpstreamBacklog();
    if (this.clientPaused.size === 0 && !this.closed) this.client.resume();
  }
}

function frameCorrelationId(frame: Buffer): number {
  return frame.readInt32BE(4);
}

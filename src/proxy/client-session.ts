import { type Socket, connect } from 'node:net';
import type { Logger } from 'pino';
import type { LimitsConfig } from '../config/schema.js';
import { ProtocolError } from '../protocol/errors.js';
import { FrameSplitter } from '../protocol/frame-splitter.js';
import { API_KEYS, APIS } from '../protocol/generated/apis.js';
import { readRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import type { BrokerAddress, ClusterView } from './cluster-view.js';
import { CLIENT_API_RANGES, isOfferedVersion } from './client-apis.js';
import { unsupportedApiVersionsAnswer } from './local-answers.js';
import { produceAcks } from './produce-acks.js';
import { ResponseStream } from './response-stream.js';
import type { ResponseRewriter } from './response-rewriter.js';

/** api key, version and correlation id sit at fixed offsets after the size prefix. */
const MIN_REQUEST_FRAME = 4 + 8;

export interface SessionContext {
  log: Logger;
  limits: LimitsConfig;
  cluster: ClusterView;
  rewriter: ResponseRewriter;
  /**
   * Where this connection's requests may go, tried in order until one accepts (the bootstrap
   * port fails over across the configured servers); empty when the broker is unknown.
   */
  upstreams(): BrokerAddress[];
}

interface PendingRewrite {
  correlationId: number;
  apiKey: number;
  version: number;
}

type PauseReason = 'upstream-busy' | 'in-flight' | 'draining' | 'connecting';

/**
 * One client connection and its own connection to a broker. Requests are forwarded as they
 * came, pipelined; responses stream back in order, and only those that name brokers are held
 * and rewritten. Backpressure either way pauses the other side; nothing grows without bound.
 */
export class ClientSession {
  private upstream: Socket | undefined;
  private readonly requests: FrameSplitter;
  private readonly responses: ResponseStream;
  private readonly rewrites: PendingRewrite[] = [];
  private inFlight = 0;
  private clientId: string | null = null;
  private closed = false;
  private readonly clientPaused = new Set<PauseReason>();
  private log: Logger;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly client: Socket,
    private readonly ctx: SessionContext,
  ) {
    this.log = ctx.log.child({ client: `${client.remoteAddress}:${client.remotePort}` });
    this.requests = new FrameSplitter(ctx.limits.maxRequestBytes);
    this.responses = new ResponseStream({
      wantsWhole: (id) => this.rewrites.length > 0 && this.rewrites[0].correlationId === id,
      passThrough: (bytes) => this.toClient(bytes),
      whole: (frame) => this.rewriteResponse(frame),
      responseEnd: () => this.responseDone(),
    });
  }

  /** Bytes this connection holds in memory: unsent either way plus an incomplete request. */
  get bufferedBytes(): number {
    return this.client.writableLength + (this.upstream?.writableLength ?? 0) + this.requests.bufferedBytes;
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  start(): void {
    const targets = this.ctx.upstreams();
    if (targets.length === 0) {
      this.log.warn('no broker behind this port is known; closing the connection');
      this.close('unknown broker');
      return;
    }
    this.pauseClient('connecting');
    this.client.setNoDelay(true);
    this.client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    this.client.on('drain', () => this.upstream?.resume());
    this.client.on('error', (e) => this.close(`client connection failed: ${e.message}`));
    this.client.on('close', () => this.close('client closed the connection'));
    this.client.setTimeout(this.ctx.limits.idleTimeoutMs, () => this.close('idle timeout'));
    this.connectUpstream(targets, 0);
  }

  private connectUpstream(targets: BrokerAddress[], index: number): void {
    if (this.closed) return;
    const target = targets[index];
    const address = `${target.host}:${target.port}`;
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    this.upstream = upstream;
    let connected = false;
    const failed = (why: string) => {
      if (connected || this.closed) return;
      upstream.destroy();
      if (index + 1 < targets.length) {
        this.log.warn({ broker: address, reason: why }, 'broker unreachable; trying the next bootstrap server');
        this.connectUpstream(targets, index + 1);
      } else {
        this.close(`no broker reachable (last tried ${address}: ${why})`);
      }
    };
    const timer = setTimeout(() => failed('connect timeout'), this.ctx.limits.connectTimeoutMs);
    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      this.log.debug({ broker: address }, 'connection open');
      upstream.on('error', (e) => this.close(`broker connection failed: ${e.message}`));
      upstream.on('close', () => this.close('broker closed the connection'));
      this.resumeClient('connecting');
    });
    upstream.once('error', (e) => {
      clearTimeout(timer);
      failed(e.message);
    });
    upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    upstream.on('drain', () => this.resumeClient('upstream-busy'));
  }

  /** Stops taking requests and closes once every outstanding response has been delivered. */
  drain(): void {
    this.pauseClient('draining');
    if (this.inFlight === 0) this.close('proxy shutting down', true);
  }

  /** Closes both connections; `flush` lets the client receive what was already written. */
  close(reason: string, flush = false): void {
    if (this.closed) return;
    this.closed = true;
    this.log.info({ reason, inFlight: this.inFlight }, 'connection closed');
    if (flush) this.client.end();
    else this.client.destroy();
    this.upstream?.destroy();
    for (const l of this.closeListeners) l();
  }

  private fromClient(chunk: Buffer): void {
    if (this.closed) return;
    this.upstream!.cork();
    try {
      this.requests.push(chunk, (frame) => this.onRequest(frame));
    } catch (e) {
      this.rejectInput(e);
    } finally {
      this.upstream?.uncork();
    }
  }

  private onRequest(frame: Buffer): void {
    if (this.closed) return;
    if (frame.length < MIN_REQUEST_FRAME) throw new ProtocolError('truncated', `request frame of ${frame.length - 4} bytes has no header`);
    const apiKey = frame.readInt16BE(4);
    const version = frame.readInt16BE(6);
    const correlationId = frame.readInt32BE(8);
    if (this.clientId === null) this.noteClientId(frame);
    if (!isOfferedVersion(apiKey, version)) {
      this.refuseVersion(apiKey, version, correlationId);
      return;
    }
    const expectsResponse = apiKey !== API_KEYS.Produce || produceAcks(frame, version) !== 0;
    if (expectsResponse) {
      this.inFlight++;
      if (this.ctx.rewriter.needsRewrite(apiKey, version)) this.rewrites.push({ correlationId, apiKey, version });
      if (this.inFlight >= this.ctx.limits.maxInFlightRequests) this.pauseClient('in-flight');
    }
    if (!this.upstream!.write(frame)) this.pauseClient('upstream-busy');
  }

  private noteClientId(frame: Buffer): void {
    this.clientId = readRequestHeader(new Reader(frame, 4)).clientId ?? '';
    this.log = this.log.child({ clientId: this.clientId });
  }

  /**
   * A request the proxy cannot decode is never forwarded. ApiVersions at an unknown version gets
   * the answer a broker would give; anything else closes the connection, as a broker does.
   */
  private refuseVersion(apiKey: number, version: number, correlationId: number): void {
    const range = CLIENT_API_RANGES[apiKey];
    if (apiKey === API_KEYS.ApiVersions && range && version > range.maxVersion && this.inFlight === 0) {
      this.toClient(unsupportedApiVersionsAnswer(correlationId, this.ctx.cluster.apiVersions));
      return;
    }
    this.log.warn({ api: APIS[apiKey]?.name ?? apiKey, version }, 'request for an API or version the proxy does not offer; closing the connection');
    this.close('unsupported request');
  }

  private rejectInput(e: unknown): void {
    if (!(e instanceof ProtocolError)) throw e;
    this.log.warn({ err: e.message, code: e.code }, 'malformed request; closing the connection');
    this.close('malformed request');
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.closed) return;
    this.client.cork();
    try {
      this.responses.push(chunk);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.log.error({ err: e.message }, 'malformed response from the broker; closing the connection');
      this.close('malformed broker response');
    } finally {
      this.client.uncork();
    }
  }

  private rewriteResponse(frame: Buffer): void {
    const pending = this.rewrites.shift()!;
    let chunks: Buffer[];
    try {
      chunks = this.ctx.rewriter.rewrite(frame, pending.apiKey, pending.version);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // Never pass on a response that may still hold real broker addresses.
      this.log.error({ err: e.message, api: APIS[pending.apiKey].name, version: pending.version }, 'cannot rewrite a broker response; closing the connection');
      this.close('unrewritable broker response');
      return;
    }
    for (const c of chunks) this.toClient(c);
  }

  private toClient(bytes: Buffer): void {
    if (this.closed) return;
    if (!this.client.write(bytes)) this.upstream?.pause();
  }

  private responseDone(): void {
    this.inFlight--;
    if (this.inFlight < this.ctx.limits.maxInFlightRequests) this.resumeClient('in-flight');
    if (this.clientPaused.has('draining') && this.inFlight === 0) this.close('proxy shutting down', true);
  }

  private pauseClient(reason: PauseReason): void {
    this.clientPaused.add(reason);
    this.client.pause();
  }

  private resumeClient(reason: PauseReason): void {
    this.clientPaused.delete(reason);
    if (this.clientPaused.size === 0 && !this.closed) this.client.resume();
  }
}

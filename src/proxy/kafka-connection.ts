import type { Socket } from 'node:net';
import { type BrokerDialer, PLAINTEXT_DIALER, describeTlsError } from './broker-dialer.js';
import { FrameSplitter } from '../protocol/frame-splitter.js';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../protocol/generated/index.js';
import { readResponseHeader, writeRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;

export interface DecodedResponse<T> {
  body: T;
  /** Bytes the generated decoder left unread (a correct decode leaves none). */
  leftover: number;
  frame: Buffer;
}

/**
 * The proxy's own connection to a broker (for its Metadata and ApiVersions requests), made of
 * nothing but the generated codecs. Tests use it too, to speak to brokers and to the proxy at
 * exact versions.
 */
export class KafkaConnection {
  private readonly splitter = new FrameSplitter(MAX_RESPONSE_BYTES);
  private readonly waiting = new Map<number, { resolve: (f: Buffer) => void; reject: (e: Error) => void }>();
  private nextCorrelationId = 1;
  clientId = 'kafka-auth-proxy';
  requestTimeoutMs = 30_000;
  /** Set once the connection is gone; later requests fail at once. */
  closedReason: string | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      try {
        this.splitter.push(chunk, (frame) => this.deliver(frame));
      } catch (e) {
        socket.destroy(e as Error);
      }
    });
    const failAll = (e: Error) => {
      const reason = describeTlsError(e);
      this.closedReason ??= reason;
      const err = reason === e.message ? e : new Error(reason, { cause: e });
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    socket.on('error', failAll);
    socket.on('close', () => failAll(new Error('connection closed by the peer')));
  }

  /** Connects with `dialer` (plaintext unless given; the proxy passes its upstream.tls one). */
  static connect(host: string, port: number, timeoutMs = 10_000, dialer: BrokerDialer = PLAINTEXT_DIALER): Promise<KafkaConnection> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const socket = dialer.dial(
        host,
        port,
        () => {
          clearTimeout(timer);
          resolve(new KafkaConnection(socket));
        },
        (reason) => {
          clearTimeout(timer);
          reject(new Error(reason));
        },
      );
    });
  }

  private deliver(frame: Buffer): void {
    const correlationId = frame.readInt32BE(4);
    const w = this.waiting.get(correlationId);
    if (w) {
      this.waiting.delete(correlationId);
      w.resolve(frame);
    }
  }

  /** Sends raw request body bytes under a proper header; resolves with the response frame. */
  sendRaw(apiKey: number, version: number, body: Buffer): Promise<Buffer> {
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    w.int32(0);
    writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: this.clientId, taggedFields: undefined });
    w.raw(body);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return new Promise((resolve, reject) => {
      if (this.closedReason !== undefined) {
        reject(new Error(`connection closed: ${this.closedReason}`));
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(correlationId);
        reject(new Error(`no answer to API ${apiKey} v${version} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      const settle = <T>(fn: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        fn(v);
      };
      this.waiting.set(correlationId, { resolve: settle(resolve), reject: settle(reject) });
      this.socket.write(frame);
    });
  }

  async request<T>(apiKey: number, version: number, message: object, responseVersion = version): Promise<DecodedResponse<T>> {
    const body = new Writer();
    REQUEST_CODECS[apiKey].write(body, message, version);
    const frame = await this.sendRaw(apiKey, version, body.toBuffer());
    const r = new Reader(frame, 4);
    readResponseHeader(r, apiKey, responseVersion);
    const decoded = RESPONSE_CODECS[apiKey].read(r, responseVersion) as T;
    return { body: decoded, leftover: r.remaining, frame };
  }

  close(): void {
    this.socket.destroy();
  }
}

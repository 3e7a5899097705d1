import { type Socket, connect } from 'node:net';
import { FrameSplitter } from '../../src/protocol/frame-splitter.js';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { readResponseHeader, writeRequestHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

export interface RawResponse<T> {
  body: T;
  /** Bytes the generated decoder left unread (a correct decode leaves none). */
  leftover: number;
  frame: Buffer;
}

/**
 * A Kafka client made of nothing but the generated codecs: encodes a request at the version
 * asked for and decodes the broker's answer, so tests can check both against a real broker.
 */
export class RawKafkaClient {
  private readonly splitter = new FrameSplitter(128 * 1024 * 1024);
  private readonly waiting = new Map<number, { apiKey: number; version: number; resolve: (f: Buffer) => void; reject: (e: Error) => void }>();
  private nextCorrelationId = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) =>
      this.splitter.push(chunk, (frame) => {
        const correlationId = frame.readInt32BE(4);
        const w = this.waiting.get(correlationId);
        if (w) {
          this.waiting.delete(correlationId);
          w.resolve(frame);
        }
      }),
    );
    const failAll = (e: Error) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    socket.on('error', failAll);
    socket.on('close', () => failAll(new Error('connection closed by the broker')));
  }

  static connect(host: string, port: number): Promise<RawKafkaClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => resolve(new RawKafkaClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends raw request body bytes under a proper header; resolves with the response frame. */
  sendRaw(apiKey: number, version: number, body: Buffer): Promise<Buffer> {
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    w.int32(0);
    writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: 'codec-crosscheck', taggedFields: undefined });
    w.raw(body);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, { apiKey, version, resolve, reject });
      this.socket.write(frame);
    });
  }

  async request<T>(apiKey: number, version: number, message: object, responseVersion = version): Promise<RawResponse<T>> {
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

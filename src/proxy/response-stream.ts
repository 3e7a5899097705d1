import { ProtocolError } from '../protocol/errors.js';

/** Size prefix plus correlation id: enough to know which request a response answers. */
const FRAME_HEAD = 8;

export interface ResponseStreamHandlers {
  /** Whether the response with this correlation id must be held whole (to be rewritten). */
  wantsWhole(correlationId: number): boolean;
  /** Bytes of responses passing through unchanged, in order (views of the input chunks). */
  passThrough(bytes: Buffer): void;
  /** A response held whole, with its size prefix. */
  whole(frame: Buffer): void;
  /** Called once per response after its last byte was handed on. */
  responseEnd(correlationId: number): void;
}

/**
 * Cuts the broker-to-client byte stream at response boundaries without buffering responses
 * that pass through unchanged: their bytes are handed on as views of the chunks they arrived
 * in, however large (a fetch response of many megabytes is never copied or held). Only the
 * responses the caller asks for are collected whole.
 */
export class ResponseStream {
  private readonly head = Buffer.alloc(FRAME_HEAD);
  private headFilled = 0;
  /** Body bytes of the current response not yet seen; 0 between responses. */
  private remaining = 0;
  private correlationId = 0;
  private collecting: Buffer[] | undefined;
  /** Pass-through responses whose last byte is in the current unflushed run. */
  private readonly endedInRun: number[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  /** Start of the run of pass-through bytes in the current chunk not yet handed on, or -1. */
  private runFrom = -1;

  constructor(private readonly handlers: ResponseStreamHandlers) {}

  push(chunk: Buffer): void {
    this.chunk = chunk;
    this.runFrom = -1;
    let offset = 0;
    while (offset < chunk.length) {
      offset = this.remaining === 0 ? this.readHead(offset) : this.readBody(offset);
    }
    this.flushRun(chunk.length);
  }

  private readHead(offset: number): number {
    const chunk = this.chunk;
    const take = Math.min(FRAME_HEAD - this.headFilled, chunk.length - offset);
    chunk.copy(this.head, this.headFilled, offset, offset + take);
    const split = take < FRAME_HEAD;
    this.headFilled += take;
    if (this.headFilled < FRAME_HEAD) {
      // The head continues in the next chunk; hand on what came before it.
      this.flushRun(offset);
      return offset + take;
    }
    this.headFilled = 0;
    const size = this.head.readInt32BE(0);
    if (size < 4) throw new ProtocolError('invalid-length', `response frame of ${size} bytes`);
    this.correlationId = this.head.readInt32BE(4);
    this.remaining = size - 4;
    if (this.handlers.wantsWhole(this.correlationId)) {
      this.flushRun(offset);
      this.collecting = [Buffer.from(this.head)];
    } else if (split) {
      this.flushRun(offset);
      this.handlers.passThrough(Buffer.from(this.head));
      this.runFrom = offset + take;
    } else if (this.runFrom < 0) {
      this.runFrom = offset;
    }
    if (this.remaining === 0) this.endResponse();
    return offset + take;
  }

  private readBody(offset: number): number {
    const take = Math.min(this.remaining, this.chunk.length - offset);
    if (this.collecting) this.collecting.push(this.chunk.subarray(offset, offset + take));
    else if (this.runFrom < 0) this.runFrom = offset;
    this.remaining -= take;
    if (this.remaining === 0) this.endResponse();
    return offset + take;
  }

  private endResponse(): void {
    if (!this.collecting) {
      this.endedInRun.push(this.correlationId);
      return;
    }
    const frame = Buffer.concat(this.collecting);
    this.collecting = undefined;
    this.handlers.whole(frame);
    this.handlers.responseEnd(this.correlationId);
  }

  /** Hands on the pass-through run up to `to`, then reports the responses it completed. */
  private flushRun(to: number): void {
    if (this.runFrom >= 0 && to > this.runFrom) this.handlers.passThrough(this.chunk.subarray(this.runFrom, to));
    this.runFrom = -1;
    for (const id of this.endedInRun) this.handlers.responseEnd(id);
    this.endedInRun.length = 0;
  }
}

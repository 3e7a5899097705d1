import { Fifo } from './fifo.js';
import type { BudgetShare } from './memory-budget.js';
import type { ResponseEdit } from './request-authorizer.js';

/** Size prefix plus correlation id: enough to know which request a response answers. */
const FRAME_HEAD = 8;

/**
 * Changes the beginning of a response while the rest streams through: the proxy holds only the
 * first bytes, never the whole response (a fetch of many megabytes stays a stream).
 */
export interface ResponseSplice {
  /** The most bytes (size prefix included) the edit may need before it can decide. */
  readonly maxHeadBytes: number;
  /**
   * Given the response's first bytes (from its size prefix on; `complete` when they are the
   * whole response), the bytes to send in place of the first `consumed` ones, with a corrected
   * size prefix; undefined while more bytes are needed.
   */
  edit(head: Buffer, complete: boolean): { replacement: Buffer[]; consumed: number } | undefined;
}

/** What happens to a broker response on its way to the client. */
export type ResponseHandling =
  /** Streams through unchanged, as views of the chunks it arrived in. */
  | { kind: 'pass' }
  /** Read whole (held, within the budget, when it spans chunks), then replaced by what the pipeline's rewriter returns for it (addresses, filtered listings, merged denials). */
  | { kind: 'rewrite'; apiKey: number; version: number; edit: ResponseEdit | undefined; brokerVersion?: number }
  /** Its beginning is edited, the rest streams through. */
  | { kind: 'splice'; apiKey: number; splice: ResponseSplice };

export const PASS_THROUGH: ResponseHandling = { kind: 'pass' };

/**
 * Told just before a rewritten or spliced response is written to the client: its API key, and
 * (performance.now()) when the broker bytes it needed had all been read.
 */
export type EditedResponse = (apiKey: number, inputReadAtMs: number) => void;

type Owed =
  /** A response the broker owes; `handling` says what to do with it. */
  | { correlationId: number; handling: ResponseHandling; local?: undefined }
  /** An answer the proxy gives itself (a SASL step, a denial), released in its turn. */
  | { correlationId: number; handling?: undefined; local: Buffer };

/** The broker sent something the pipeline cannot match to a request, or it cannot be held. */
export class ResponsePipelineError extends Error {
  override readonly name = 'ResponsePipelineError';
}

/**
 * The one ordered path of responses to a client. Every response the client is owed, whether the
 * broker's (passed through, rewritten or spliced) or the proxy's own, is queued in request order
 * and released strictly in that order, whatever the boundaries of the chunks the broker's bytes
 * arrive in. Each broker response is matched to its request by position and correlation id the
 * moment its head is read, so how it is handled never depends on what else shares its chunk.
 * Pass-through responses are handed on as views of their chunks, without copies; only responses
 * that must be rewritten and span chunks are held, within a proxy-wide budget.
 */
export class ResponsePipeline {
  private readonly owed = new Fifo<Owed>();
  private readonly head = Buffer.alloc(FRAME_HEAD);
  private headFilled = 0;
  /** The broker response being read, from its head to its last byte. */
  private current: { correlationId: number; handling: ResponseHandling } | undefined;
  /** Body bytes of `current` not yet read. */
  private remaining = 0;
  /** Bytes of `current` held for a rewrite or a splice; undefined while it streams. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private chunk: Buffer = Buffer.alloc(0);
  /** Start of the run of pass-through bytes in `chunk` not yet handed on, or -1. */
  private runFrom = -1;

  constructor(
    /** Writes bytes to the client, in order. */
    private readonly out: (bytes: Buffer) => void,
    /** Turns a held response into the complete frame to send instead, as chunks. */
    private readonly rewrite: (frame: Buffer, how: Extract<ResponseHandling, { kind: 'rewrite' }>) => Buffer[],
    /** This connection's part of the proxy-wide budget for held responses. */
    private readonly budget: BudgetShare,
    private readonly edited: EditedResponse = () => {},
  ) {}

  /** Responses still owed to the client, the one being read included. */
  get length(): number {
    return this.owed.length + (this.current ? 1 : 0);
  }

  /** A request went to the broker: its response is owed after everything owed so far. */
  expect(correlationId: number, handling: ResponseHandling): void {
    this.owed.push({ correlationId, handling });
  }

  /** The proxy answers a request itself: sent now if nothing is owed before it, else in its turn. */
  answer(correlationId: number, frame: Buffer): void {
    if (this.length === 0) this.out(frame);
    else this.owed.push({ correlationId, local: frame });
  }

  /** Bytes from the broker. Throws ResponsePipelineError (or the rewrite's error) on bytes it must not pass on. */
  push(chunk: Buffer): void {
    this.chunk = chunk;
    this.runFrom = -1;
    let offset = 0;
    while (offset < chunk.length) offset = this.current ? this.readBody(offset) : this.readHead(offset);
    this.flushRun(chunk.length);
  }

  /** Gives back what this connection holds of the proxy-wide budget (the connection is closing). */
  dispose(): void {
    this.budget.release();
    this.held = undefined;
    this.heldBytes = 0;
  }

  private readHead(start: number): number {
    const chunk = this.chunk;
    // A head begun in an earlier chunk is completed in `head`; one wholly in this chunk is read where it lies.
    const split = this.headFilled > 0;
    let size: number;
    let correlationId: number;
    let offset: number;
    if (!split && chunk.length - start >= FRAME_HEAD) {
      size = chunk.readInt32BE(start);
      correlationId = chunk.readInt32BE(start + 4);
      offset = start + FRAME_HEAD;
    } else {
      const take = Math.min(FRAME_HEAD - this.headFilled, chunk.length - start);
      chunk.copy(this.head, this.headFilled, start, start + take);
      this.headFilled += take;
      offset = start + take;
      if (this.headFilled < FRAME_HEAD) {
        // The head continues in the next chunk; hand on what came before it.
        this.flushRun(start);
        return offset;
      }
      this.headFilled = 0;
      size = this.head.readInt32BE(0);
      correlationId = this.head.readInt32BE(4);
    }
    if (size < 4) throw new ResponsePipelineError(`broker response frame of ${size} bytes`);
    const next = this.owed.shift();
    if (next === undefined || next.handling === undefined || next.correlationId !== correlationId) {
      throw new ResponsePipelineError(
        next === undefined ? `broker sent a response (correlation id ${correlationId}) to no request` : `broker answered correlation id ${correlationId} where ${next.correlationId} was owed`,
      );
    }
    this.current = next;
    this.remaining = size - 4;
    const end = offset + this.remaining;
    if (next.handling.kind === 'rewrite' && !split && end <= chunk.length) {
      this.rewriteInPlace(start, end, next.handling);
      this.endResponse(end);
      return end;
    }
    if (next.handling.kind === 'pass') {
      if (split) {
        this.flushRun(start);
        this.out(Buffer.from(this.head));
        this.runFrom = offset;
      } else if (this.runFrom < 0) {
        this.runFrom = start;
      }
    } else {
      this.flushRun(start);
      this.hold(Buffer.from(split ? this.head : chunk.subarray(start, offset)));
      if (next.handling.kind === 'splice') this.trySplice(next.handling);
    }
    if (this.remaining === 0) this.endResponse(offset);
    return offset;
  }

  private readBody(offset: number): number {
    const handling = this.current!.handling;
    let take = Math.min(this.remaining, this.chunk.length - offset);
    if (this.held === undefined) {
      if (this.runFrom < 0) this.runFrom = offset;
    } else if (handling.kind === 'splice') {
      // Hold only what the edit may need; the rest of the chunk streams once it is done.
      take = Math.min(take, handling.splice.maxHeadBytes - this.heldBytes);
      this.remaining -= take;
      this.hold(this.chunk.subarray(offset, offset + take));
      this.trySplice(handling);
      if (this.remaining === 0) this.endResponse(offset + take);
      return offset + take;
    } else {
      this.hold(this.chunk.subarray(offset, offset + take));
    }
    this.remaining -= take;
    if (this.remaining === 0) this.endResponse(offset + take);
    return offset + take;
  }

  private hold(bytes: Buffer): void {
    if (!this.budget.set(this.heldBytes + bytes.length)) {
      throw new ResponsePipelineError('the proxy-wide budget for held responses is exhausted, and this connection would hold the most of it');
    }
    (this.held ??= []).push(bytes);
    this.heldBytes += bytes.length;
  }

  /** Takes the held bytes as one buffer and gives their share of the budget back. */
  private release(): Buffer {
    const bytes = this.held!.length === 1 ? this.held![0] : Buffer.concat(this.held!);
    this.dispose();
    return bytes;
  }

  /** Applies a splice once it has enough bytes; the response then streams on. */
  private trySplice({ apiKey, splice }: Extract<ResponseHandling, { kind: 'splice' }>): void {
    const readAt = performance.now();
    const complete = this.remaining === 0;
    const head = this.held!.length === 1 ? this.held![0] : Buffer.concat(this.held!);
    const edited = splice.edit(head, complete);
    if (edited === undefined) {
      if (complete || this.heldBytes >= splice.maxHeadBytes) throw new ResponsePipelineError('broker response too short or too long to edit');
      this.held = [head];
      return;
    }
    this.release();
    this.edited(apiKey, readAt);
    for (const b of edited.replacement) this.out(b);
    if (edited.consumed < head.length) this.out(head.subarray(edited.consumed));
  }

  /**
   * A response to rewrite that lies whole in the chunk is read where it is, neither copied nor
   * held; when the rewrite leaves it as it came (a Produce response without broker addresses), it
   * streams on with the pass-through bytes around it.
   */
  private rewriteInPlace(start: number, end: number, handling: Extract<ResponseHandling, { kind: 'rewrite' }>): void {
    this.remaining = 0;
    const frame = this.chunk.subarray(start, end);
    const readAt = performance.now();
    const rewritten = this.rewrite(frame, handling);
    if (rewritten.length === 1 && rewritten[0] === frame) {
      if (this.runFrom < 0) this.runFrom = start;
      return;
    }
    this.flushRun(start);
    this.sendRewritten(rewritten, handling.apiKey, readAt);
  }

  private endResponse(offset: number): void {
    const { handling } = this.current!;
    this.current = undefined;
    if (this.held !== undefined && handling.kind === 'rewrite') {
      const readAt = performance.now();
      const frame = this.release();
      const rewritten = this.rewrite(frame, handling);
      if (rewritten.length === 1 && rewritten[0] === frame) this.out(frame);
      else this.sendRewritten(rewritten, handling.apiKey, readAt);
    }
    // The proxy's own answers queued behind this response go now, before any later broker bytes.
    if (this.owed.peek()?.local) {
      this.flushRun(offset);
      for (let next = this.owed.peek(); next?.local; next = this.owed.peek()) {
        this.owed.shift();
        this.out(next.local);
      }
    }
  }

  /** Only responses the rewrite changed are timed: one it left as it came passed through untouched. */
  private sendRewritten(rewritten: Buffer[], apiKey: number, readAt: number): void {
    this.edited(apiKey, readAt);
    for (const b of rewritten) this.out(b);
  }

  private flushRun(to: number): void {
    if (this.runFrom >= 0 && to > this.runFrom) this.out(this.chunk.subarray(this.runFrom, to));
    this.runFrom = -1;
  }
}

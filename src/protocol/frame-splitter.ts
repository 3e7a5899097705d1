import { ProtocolError } from './errors.js';

const SIZE_PREFIX = 4;
/** What may still arrive after a stop, beyond one frame: a socket read already under way. */
const STOPPED_SLACK = 1024 * 1024;

/**
 * Cuts a TCP byte stream into Kafka frames (int32 size + message). Each frame is handed out
 * with its size prefix, ready to forward as is. A frame that arrived in one chunk is a view of
 * that chunk (no copy); one spread over chunks is joined once, when its last byte arrives, so
 * memory never exceeds what the peer actually sent. The size prefix is checked against
 * `maxFrameSize` before anything is buffered for it.
 *
 * A reader that must finish with one frame before it takes the next (a broker mutes a
 * connection while a request is in progress) calls stop(): the splitter then keeps what follows
 * as bytes, uncut, until resume().
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Size of the frame being assembled, once its prefix is known; -1 before. */
  private expected = -1;
  private stopped = false;

  constructor(public maxFrameSize: number) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.stopped) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      // The reader pauses its socket when it stops us; more than a frame's worth means it did not.
      if (this.pendingBytes > this.maxFrameSize + SIZE_PREFIX + STOPPED_SLACK) {
        throw new ProtocolError('frame-too-large', `${this.pendingBytes} bytes sent while the previous request was in progress`);
      }
      return;
    }
    if (this.pendingBytes === 0) {
      this.scan(chunk, onFrame);
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.expected < 0) {
      if (this.pendingBytes < SIZE_PREFIX) return;
      this.expected = this.checkSize(this.peekSize());
    }
    if (this.pendingBytes < SIZE_PREFIX + this.expected) return;
    const joined = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.expected = -1;
    this.scan(joined, onFrame);
  }

  /** Frames after the current one stay uncut until resume(). */
  stop(): void {
    this.stopped = true;
  }

  /** Cuts and hands out what arrived while stopped, until done or stopped again. */
  resume(onFrame: (frame: Buffer) => void): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.pendingBytes === 0) return;
    const held = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.expected = -1;
    this.scan(held, onFrame);
  }

  private scan(buf: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    let size = -1;
    while (!this.stopped && buf.length - offset >= SIZE_PREFIX) {
      size = this.checkSize(buf.readInt32BE(offset));
      const end = offset + SIZE_PREFIX + size;
      if (end > buf.length) break;
      onFrame(buf.subarray(offset, end));
      offset = end;
      size = -1;
    }
    if (offset < buf.length) {
      // A view would keep the whole read alive for a few bytes of the next frame, beyond what
      // bufferedBytes counts: copy a leftover that is the smaller part, so at most twice it is held.
      const rest = buf.length - offset;
      this.pending = [rest < offset ? Buffer.from(buf.subarray(offset)) : buf.subarray(offset)];
      this.pendingBytes = rest;
      this.expected = size;
    }
  }

  /** Reads the size prefix when it is split across the first pending chunks. */
  private peekSize(): number {
    const head = Buffer.allocUnsafe(SIZE_PREFIX);
    let filled = 0;
    for (const chunk of this.pending) {
      filled += chunk.copy(head, filled, 0, Math.min(chunk.length, SIZE_PREFIX - filled));
      if (filled === SIZE_PREFIX) break;
    }
    return head.readInt32BE(0);
  }

  private checkSize(size: number): number {
    if (size < 0) throw new ProtocolError('invalid-length', `negative frame size ${size}`);
    if (size > this.maxFrameSize) {
      throw new ProtocolError('frame-too-large', `frame of ${size} bytes exceeds the limit of ${this.maxFrameSize}`);
    }
    return size;
  }
}

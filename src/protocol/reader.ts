import { ProtocolError } from './errors.js';

const ZERO_UUID_BYTES = 16;

/**
 * Bounds-checked cursor over one Kafka message. Every read checks the remaining bytes first
 * and throws ProtocolError, so untrusted input can never yield a wrong value, read outside its
 * frame, or make the proxy allocate according to a length it has not seen the bytes for.
 * Byte fields are returned as views of the input (never copied).
 */
export class Reader {
  pos: number;
  readonly end: number;
  /** Elements of every list read so far: what decoding the message costs, whatever the elements are. */
  elements = 0;
  /** Most list elements this reader accepts in all; past it the message is refused. */
  maxElements = Infinity;

  constructor(
    readonly buf: Buffer,
    pos = 0,
    end = buf.length,
  ) {
    if (pos < 0 || end > buf.length || pos > end) {
      throw new ProtocolError('invalid-length', `reader window ${pos}..${end} outside buffer of ${buf.length}`);
    }
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** A reader over the next `size` bytes; this reader moves past them. */
  sub(size: number): Reader {
    this.need(size);
    const r = new Reader(this.buf, this.pos, this.pos + size);
    this.pos += size;
    return r;
  }

  private need(n: number): void {
    if (n > this.end - this.pos) {
      throw new ProtocolError('truncated', `need ${n} bytes at offset ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p] << 24) | (b[p + 1] << 16)) >> 16;
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Kafka's Uuid, as its canonical text form (base64url, 22 characters). */
  uuid(): string {
    this.need(ZERO_UUID_BYTES);
    const s = this.buf.toString('base64url', this.pos, this.pos + ZERO_UUID_BYTES);
    this.pos += ZERO_UUID_BYTES;
    return s;
  }

  /**
   * Unsigned varint of at most 32 bits (5 bytes). Unlike Kafka's reader, which drops the bits
   * above 32, a wider value is refused.
   */
  uvarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) this.need(1);
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    for (let shift = 7; ; shift += 7) {
      if (pos >= this.end) {
        this.pos = pos;
        this.need(1);
      }
      b = buf[pos++];
      if (shift === 28) {
        if (b > 0x0f) throw new ProtocolError('varint-overflow', `unsigned varint longer than 32 bits at offset ${pos}`);
        this.pos = pos;
        return value + b * 0x10000000;
      }
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
  }

  /** Signed zig-zag varint of at most 32 bits. */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Length of a classic (int16-prefixed) string, -1 for null. */
  private stringLength(): number {
    const n = this.int16();
    if (n < -1) throw new ProtocolError('invalid-length', `string length ${n}`);
    return n;
  }

  /** Length of a compact string/bytes/array (uvarint N+1, 0 for null), -1 for null. */
  private compactLength(): number {
    return this.uvarint() - 1;
  }

  private text(n: number): string {
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  private slice(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    const n = this.stringLength();
    if (n < 0) throw new ProtocolError('null-not-allowed', `null string at offset ${this.pos - 2}`);
    return this.text(n);
  }

  nullableString(): string | null {
    const n = this.stringLength();
    return n < 0 ? null : this.text(n);
  }

  compactString(): string {
    const n = this.compactLength();
    if (n < 0) throw new ProtocolError('null-not-allowed', `null compact string at offset ${this.pos}`);
    return this.text(n);
  }

  compactNullableString(): string | null {
    const n = this.compactLength();
    return n < 0 ? null : this.text(n);
  }

  private bytesLength(): number {
    const n = this.int32();
    if (n < -1) throw new ProtocolError('invalid-length', `bytes length ${n}`);
    return n;
  }

  bytes(): Buffer {
    const n = this.bytesLength();
    if (n < 0) throw new ProtocolError('null-not-allowed', `null bytes at offset ${this.pos - 4}`);
    return this.slice(n);
  }

  nullableBytes(): Buffer | null {
    const n = this.bytesLength();
    return n < 0 ? null : this.slice(n);
  }

  compactBytes(): Buffer {
    const n = this.compactLength();
    if (n < 0) throw new ProtocolError('null-not-allowed', `null compact bytes at offset ${this.pos}`);
    return this.slice(n);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.compactLength();
    return n < 0 ? null : this.slice(n);
  }

  /** Raw bytes of a known size (tagged field payloads). */
  raw(n: number): Buffer {
    return this.slice(n);
  }

  /** Moves past `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  skipString(): void {
    const n = this.stringLength();
    if (n > 0) this.skip(n);
  }

  skipCompactString(): void {
    const n = this.compactLength();
    if (n > 0) this.skip(n);
  }

  skipBytes(): void {
    const n = this.bytesLength();
    if (n > 0) this.skip(n);
  }

  skipCompactBytes(): void {
    const n = this.compactLength();
    if (n > 0) this.skip(n);
  }

  /** Moves past a whole tagged-field section. */
  skipTaggedFields(): void {
    for (let count = this.uvarint(); count > 0; count--) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  /**
   * Element count of a classic array, -1 for null. As Kafka does, a count larger than the
   * bytes left is refused before anything is allocated for it.
   */
  arrayLength(): number {
    return this.checkCount(this.int32());
  }

  compactArrayLength(): number {
    return this.checkCount(this.compactLength());
  }

  private checkCount(n: number): number {
    if (n < -1) throw new ProtocolError('invalid-length', `array length ${n}`);
    if (n > this.end - this.pos) {
      throw new ProtocolError(
        'invalid-length',
        `array of ${n} elements but only ${this.end - this.pos} bytes remain at offset ${this.pos}`,
      );
    }
    if (n > 0 && (this.elements += n) > this.maxElements) {
      throw new ProtocolError('too-many-entities', `more than ${this.maxElements} list elements in one message`);
    }
    return n;
  }
}

import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/errors.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

function bytes(...values: number[]): Buffer {
  return Buffer.from(values);
}

function expectProtocolError(fn: () => unknown, code: ProtocolError['code']): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe(code);
    return;
  }
  throw new Error(`expected ProtocolError ${code}, nothing was thrown`);
}

describe('Reader', () => {
  it('reads fixed-width big-endian values', () => {
    const r = new Reader(bytes(0xff, 0x80, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x01));
    expect(r.int8()).toBe(-1);
    expect(r.int16()).toBe(-32768);
    expect(r.uint16()).toBe(0x7fff);
    expect(r.int64()).toBe(-2n);
    expect(r.remaining).toBe(1);
  });

  it('reads unsigned and zig-zag varints as Kafka encodes them', () => {
    expect(new Reader(bytes(0x00)).uvarint()).toBe(0);
    expect(new Reader(bytes(0x96, 0x01)).uvarint()).toBe(150);
    expect(new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x0f)).uvarint()).toBe(0xffffffff);
    expect(new Reader(bytes(0x01)).varint()).toBe(-1);
    expect(new Reader(bytes(0x02)).varint()).toBe(1);
  });

  it('refuses a varint wider than 32 bits instead of truncating it', () => {
    expectProtocolError(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x10)).uvarint(), 'varint-overflow');
    expectProtocolError(() => new Reader(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).uvarint(), 'varint-overflow');
  });

  it('refuses reads past the end of its window', () => {
    expectProtocolError(() => new Reader(bytes(0, 0, 0)).int32(), 'truncated');
    const r = new Reader(bytes(1, 2, 3, 4, 5, 6), 1, 3);
    expect(r.int16()).toBe(0x0203);
    expectProtocolError(() => r.int8(), 'truncated');
  });

  it('refuses negative lengths other than the null marker', () => {
    expectProtocolError(() => new Reader(bytes(0xff, 0xfe)).nullableString(), 'invalid-length');
    expectProtocolError(() => new Reader(bytes(0xff, 0xff, 0xff, 0xfe)).nullableBytes(), 'invalid-length');
    expectProtocolError(() => new Reader(bytes(0xff, 0xff, 0xff, 0xfe)).arrayLength(), 'invalid-length');
  });

  it('refuses null where the type is not nullable', () => {
    expectProtocolError(() => new Reader(bytes(0xff, 0xff)).string(), 'null-not-allowed');
    expectProtocolError(() => new Reader(bytes(0x00)).compactString(), 'null-not-allowed');
  });

  it('refuses an absurd array length before allocating anything for it', () => {
    const before = process.memoryUsage().arrayBuffers;
    expectProtocolError(() => new Reader(bytes(0x7f, 0xff, 0xff, 0xff, 0, 0)).arrayLength(), 'invalid-length');
    expectProtocolError(() => new Reader(bytes(0xff, 0xff, 0xff, 0xff, 0x0f)).compactArrayLength(), 'invalid-length');
    expectProtocolError(() => new Reader(bytes(0x7f, 0xff, 0xff, 0xff)).bytes(), 'truncated');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('returns byte fields as views of the input, not copies', () => {
    const input = bytes(0, 0, 0, 3, 7, 8, 9);
    const b = new Reader(input).bytes();
    expect([...b]).toEqual([7, 8, 9]);
    input[4] = 42;
    expect(b[0]).toBe(42);
  });

  it('reads UUIDs in Kafka text form', () => {
    expect(new Reader(Buffer.alloc(16)).uuid()).toBe('AAAAAAAAAAAAAAAAAAAAAA');
  });
});

describe('Writer', () => {
  it('round-trips every primitive through Reader', () => {
    const w = new Writer(8);
    w.int8(-5);
    w.int16(-300);
    w.uint16(65535);
    w.int32(-70000);
    w.uint32(4000000000);
    w.int64(-9007199254740993n);
    w.float64(3.25);
    w.uvarint(300);
    w.varint(-64);
    w.string('grüße');
    w.nullableString(null);
    w.compactString('日本');
    w.compactNullableString(null);
    w.bytes(bytes(1, 2));
    w.compactNullableBytes(null);
    w.uuid('AAECAwQFBgcICQoLDA0ODw');
    const r = new Reader(w.toBuffer());
    expect([r.int8(), r.int16(), r.uint16(), r.int32(), r.uint32()]).toEqual([-5, -300, 65535, -70000, 4000000000]);
    expect(r.int64()).toBe(-9007199254740993n);
    expect(r.float64()).toBe(3.25);
    expect([r.uvarint(), r.varint()]).toEqual([300, -64]);
    expect([r.string(), r.nullableString(), r.compactString(), r.compactNullableString()]).toEqual(['grüße', null, '日本', null]);
    expect([...r.bytes()]).toEqual([1, 2]);
    expect(r.compactNullableBytes()).toBeNull();
    expect(r.uuid()).toBe('AAECAwQFBgcICQoLDA0ODw');
    expect(r.remaining).toBe(0);
  });

  it('references large byte fields instead of copying them', () => {
    const records = Buffer.alloc(64 * 1024, 1);
    const w = new Writer();
    w.int32(7);
    w.bytes(records);
    w.int16(1);
    const chunks = w.finish();
    expect(chunks.some((c) => c === records)).toBe(true);
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(4 + 4 + records.length + 2);
  });

  it('refuses values that do not fit their encoding', () => {
    expectProtocolError(() => new Writer().uvarint(-1), 'value-out-of-range');
    expectProtocolError(() => new Writer().string('x'.repeat(40000)), 'value-out-of-range');
    expectProtocolError(() => new Writer().uuid('not-a-uuid'), 'value-out-of-range');
  });
});

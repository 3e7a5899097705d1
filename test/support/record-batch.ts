import { Writer } from '../../src/protocol/writer.js';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const b of buf) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * An uncompressed record batch (magic 2) holding `values`, for tests that produce through the
 * generated codecs; the proxy itself never builds or parses record batches.
 */
export function recordBatch(values: string[], timestamp = Date.now()): Buffer {
  const records = new Writer();
  values.forEach((value, offsetDelta) => {
    const body = new Writer();
    const v = Buffer.from(value);
    body.int8(0);
    body.varint(0);
    body.varint(offsetDelta);
    body.varint(-1);
    body.varint(v.length);
    body.raw(v);
    body.varint(0);
    const bytes = body.toBuffer();
    records.varint(bytes.length);
    records.raw(bytes);
  });
  const afterCrc = new Writer();
  afterCrc.int16(0);
  afterCrc.int32(values.length - 1);
  afterCrc.int64(BigInt(timestamp));
  afterCrc.int64(BigInt(timestamp));
  afterCrc.int64(-1n);
  afterCrc.int16(-1);
  afterCrc.int32(-1);
  afterCrc.int32(values.length);
  afterCrc.raw(records.toBuffer());
  const tail = afterCrc.toBuffer();
  const batch = new Writer();
  batch.int64(0n);
  batch.int32(4 + 1 + 4 + tail.length);
  batch.int32(-1);
  batch.int8(2);
  batch.uint32(crc32c(tail));
  batch.raw(tail);
  return batch.toBuffer();
}

import { describe, expect, it } from 'vitest';
import { ResponseStream } from '../../src/proxy/response-stream.js';
import { Rng } from '../support/rng.js';

function response(correlationId: number, bodyBytes: number, fill: number): Buffer {
  const f = Buffer.alloc(8 + bodyBytes, fill);
  f.writeInt32BE(4 + bodyBytes, 0);
  f.writeInt32BE(correlationId, 4);
  return f;
}

interface Output {
  bytes: Buffer[];
  wholes: number[];
  ends: number[];
  /** Output bytes handed on before each response end, to check ends never run ahead of data. */
  bytesAtEnd: number[];
}

function run(frames: Buffer[], wanted: Set<number>, cut: number): Output {
  const out: Output = { bytes: [], wholes: [], ends: [], bytesAtEnd: [] };
  let total = 0;
  const stream = new ResponseStream({
    wantsWhole: (id) => wanted.has(id),
    passThrough: (b) => {
      out.bytes.push(Buffer.from(b));
      total += b.length;
    },
    whole: (f) => {
      out.bytes.push(f);
      out.wholes.push(f.readInt32BE(4));
      total += f.length;
    },
    responseEnd: (id) => {
      out.ends.push(id);
      out.bytesAtEnd.push(total);
    },
  });
  const all = Buffer.concat(frames);
  for (let i = 0; i < all.length; i += cut) stream.push(all.subarray(i, i + cut));
  return out;
}

describe('ResponseStream', () => {
  const rng = new Rng(7);
  const frames = Array.from({ length: 12 }, (_, i) => response(i + 1, rng.pick([0, 1, 3, 50, 700]), i + 1));
  const stream = Buffer.concat(frames);
  const wanted = new Set([2, 5, 6, 12]);

  it('hands on every byte in order and ends each response after its last byte, however the stream is cut', () => {
    for (let cut = 1; cut <= stream.length; cut += cut < 20 ? 1 : 37) {
      const out = run(frames, wanted, cut);
      expect(Buffer.concat(out.bytes).equals(stream), `cut ${cut}`).toBe(true);
      expect(out.ends).toEqual(frames.map((_, i) => i + 1));
      expect(out.wholes).toEqual([2, 5, 6, 12]);
      let offset = 0;
      frames.forEach((f, i) => {
        offset += f.length;
        expect(out.bytesAtEnd[i], `cut ${cut}, response ${i + 1}`).toBeGreaterThanOrEqual(offset);
      });
    }
  });

  it('passes responses through as views of the chunks, without copying them', () => {
    const chunk = Buffer.concat([response(1, 100, 1), response(2, 100, 2)]);
    const seen: Buffer[] = [];
    new ResponseStream({ wantsWhole: () => false, passThrough: (b) => seen.push(b), whole: () => {}, responseEnd: () => {} }).push(chunk);
    expect(seen).toHaveLength(1);
    expect(seen[0].buffer).toBe(chunk.buffer);
  });

  it('delivers a held response whole even when it arrives in many pieces', () => {
    const big = response(9, 5000, 7);
    const out = run([big], new Set([9]), 100);
    expect(out.wholes).toEqual([9]);
    expect(out.bytes).toHaveLength(1);
    expect(out.bytes[0].equals(big)).toBe(true);
  });

  it('refuses a response too short to hold a correlation id', () => {
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(2, 0);
    const s = new ResponseStream({ wantsWhole: () => false, passThrough: () => {}, whole: () => {}, responseEnd: () => {} });
    expect(() => s.push(bad)).toThrow(/response frame of 2 bytes/);
  });
});

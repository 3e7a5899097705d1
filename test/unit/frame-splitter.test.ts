import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/errors.js';
import { FrameSplitter } from '../../src/protocol/frame-splitter.js';

function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const f = Buffer.alloc(4 + body.length);
  f.writeInt32BE(body.length, 0);
  body.copy(f, 4);
  return f;
}

function collect(splitter: FrameSplitter, chunks: Buffer[]): string[] {
  const out: string[] = [];
  for (const c of chunks) splitter.push(c, (f) => out.push(f.subarray(4).toString()));
  return out;
}

describe('FrameSplitter', () => {
  const stream = Buffer.concat([frame('alpha'), frame(''), frame('a somewhat longer frame body'), frame('z')]);
  const expected = ['alpha', '', 'a somewhat longer frame body', 'z'];

  it('yields the same frames however the stream is cut', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += cut) chunks.push(stream.subarray(i, i + cut));
      expect(collect(new FrameSplitter(1024), chunks), `chunk size ${cut}`).toEqual(expected);
    }
  });

  it('yields frames with their size prefix, as views of a chunk that holds them whole', () => {
    const frames: Buffer[] = [];
    new FrameSplitter(1024).push(stream, (f) => frames.push(f));
    expect(frames[0].equals(frame('alpha'))).toBe(true);
    expect(frames[0].buffer).toBe(stream.buffer);
  });

  it('refuses a size prefix above the limit before buffering the body', () => {
    const splitter = new FrameSplitter(524288);
    const huge = Buffer.alloc(4);
    huge.writeInt32BE(0x7fffffff, 0);
    expect(() => splitter.push(huge, () => {})).toThrow(ProtocolError);
    expect(splitter.bufferedBytes).toBeLessThanOrEqual(4);
  });

  it('refuses an oversized prefix split across chunks', () => {
    const splitter = new FrameSplitter(100);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(101, 0);
    splitter.push(prefix.subarray(0, 2), () => {});
    expect(() => splitter.push(prefix.subarray(2), () => {})).toThrow(/exceeds the limit of 100/);
  });

  it('refuses a negative size', () => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(-1, 0);
    expect(() => new FrameSplitter(100).push(b, () => {})).toThrow(/negative frame size/);
  });

  it('holds only the bytes of an incomplete frame', () => {
    const splitter = new FrameSplitter(1 << 20);
    const big = frame('x'.repeat(5000));
    const seen: string[] = [];
    splitter.push(big.subarray(0, 1000), (f) => seen.push(f.toString()));
    expect(splitter.bufferedBytes).toBe(1000);
    splitter.push(big.subarray(1000), (f) => seen.push(f.subarray(4).toString()));
    expect(seen).toEqual(['x'.repeat(5000)]);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('keeps the start of the next frame as its own copy, not a view of the large read it came in', () => {
    const splitter = new FrameSplitter(1 << 20);
    const next = frame('next frame');
    // A large whole frame and the first 3 bytes of the next one, in one read.
    const read = Buffer.concat([frame('y'.repeat(64 * 1024)), next.subarray(0, 3)]);
    const seen: string[] = [];
    splitter.push(read, (f) => seen.push(f.subarray(4).toString()));
    expect(splitter.bufferedBytes).toBe(3);
    // Were the 3 bytes a view, this would change them (and the whole read would stay alive for them).
    read.fill(0xff);
    splitter.push(next.subarray(3), (f) => seen.push(f.subarray(4).toString()));
    expect(seen).toEqual(['y'.repeat(64 * 1024), 'next frame']);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('applies a raised limit to the next frame (after authentication)', () => {
    const splitter = new FrameSplitter(10);
    expect(() => splitter.push(frame('x'.repeat(11)), () => {})).toThrow(ProtocolError);
    const raised = new FrameSplitter(10);
    raised.maxFrameSize = 100;
    expect(collect(raised, [frame('x'.repeat(11))])).toEqual(['x'.repeat(11)]);
  });

  it('stops cutting after the frame that asked, and hands the rest out on resume, in order, however it arrived', () => {
    const frames = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'f'].map(frame);
    const all = Buffer.concat(frames);
    for (let cut = 1; cut <= all.length; cut++) {
      const splitter = new FrameSplitter(100);
      const seen: string[] = [];
      const onFrame = (f: Buffer) => {
        seen.push(f.subarray(4).toString());
        // Every other frame makes the reader wait before the next one.
        if (seen.length % 2 === 1) splitter.stop();
      };
      for (let i = 0; i < all.length; i += cut) {
        splitter.push(all.subarray(i, i + cut), onFrame);
      }
      while (seen.length < frames.length) {
        const before = seen.length;
        splitter.resume(onFrame);
        expect(seen.length, `cut ${cut}`).toBeGreaterThan(before);
      }
      expect(seen, `cut ${cut}`).toEqual(['a', 'bb', 'ccc', 'dddd', 'eeeee', 'f']);
    }
  });

  it('refuses a peer that keeps sending while stopped beyond a frame and a read', () => {
    const splitter = new FrameSplitter(1024);
    splitter.stop();
    expect(() => {
      for (let i = 0; i < 40; i++) splitter.push(Buffer.alloc(64 * 1024), () => {});
    }).toThrow(/sent while the previous request was in progress/);
  });
});

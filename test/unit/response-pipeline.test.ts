import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { MemoryBudget } from '../../src/proxy/memory-budget.js';
import { PASS_THROUGH, type ResponseHandling, ResponsePipeline, type ResponseSplice } from '../../src/proxy/response-pipeline.js';

/** `unchanged`: a response held to be rewritten that the rewrite leaves as it came (a Produce response without broker addresses). */
type Kind = 'pass' | 'rewrite' | 'unchanged' | 'splice' | 'local';

interface Req {
  kind: Kind;
  correlationId: number;
  /** The broker's response (forwarded kinds) or the proxy's answer (local). */
  frame: Buffer;
}

function frameOf(correlationId: number, body: Buffer): Buffer {
  const f = Buffer.alloc(8 + body.length);
  f.writeInt32BE(4 + body.length, 0);
  f.writeInt32BE(correlationId, 4);
  body.copy(f, 8);
  return f;
}

/** The model's rewrite: the body reversed behind a marker, handed back in two chunks; Produce responses come back as they are. */
function rewrite(frame: Buffer, how: { apiKey: number }): Buffer[] {
  return how.apiKey === API_KEYS.Produce ? [frame] : rewritten(frame);
}

function rewritten(frame: Buffer): Buffer[] {
  const body = Buffer.from(frame.subarray(8)).reverse();
  const out = frameOf(frame.readInt32BE(4), Buffer.concat([Buffer.from('RW'), body]));
  return [out.subarray(0, 5), out.subarray(5)];
}

/** The model's splice: needs the first 12 bytes (or the whole response if shorter) and swaps them for a marked prefix. */
const SPLICE: ResponseSplice = {
  maxHeadBytes: 16,
  edit(head, complete) {
    if (head.length < 12 && !complete) return undefined;
    const consumed = Math.min(12, head.length);
    return { replacement: [Buffer.from('SPLICED:'), Buffer.from(head.subarray(4, 8))], consumed };
  },
};

function expected(r: Req): Buffer {
  switch (r.kind) {
    case 'pass':
    case 'unchanged':
    case 'local':
      return r.frame;
    case 'rewrite':
      return Buffer.concat(rewritten(r.frame));
    case 'splice': {
      const edited = SPLICE.edit(r.frame, true)!;
      return Buffer.concat([...edited.replacement, r.frame.subarray(edited.consumed)]);
    }
  }
}

function handlingOf(kind: Kind): ResponseHandling {
  if (kind === 'rewrite') return { kind: 'rewrite', apiKey: 3, version: 12, edit: undefined };
  if (kind === 'unchanged') return { kind: 'rewrite', apiKey: API_KEYS.Produce, version: 11, edit: undefined };
  if (kind === 'splice') return { kind: 'splice', apiKey: API_KEYS.Fetch, splice: SPLICE };
  return PASS_THROUGH;
}

function pipelineWith(out: Buffer[], budget = new MemoryBudget(1 << 20), evict = () => {}): ResponsePipeline {
  return new ResponsePipeline(
    (b) => out.push(Buffer.from(b)),
    rewrite,
    budget.share(evict),
  );
}

/**
 * Plays requests and broker chunks in the order `choices` picks (a broker never answers a request
 * before it was sent) and checks after every step that the client got a prefix of what the
 * model says, and in the end all of it.
 */
function play(reqs: Req[], cuts: number[], choices: boolean[]): void {
  const out: Buffer[] = [];
  const pipeline = pipelineWith(out);
  const want = Buffer.concat(reqs.map(expected));
  const broker = Buffer.concat(reqs.filter((r) => r.kind !== 'local').map((r) => r.frame));
  const bounds = [...new Set(cuts.map((c) => c % (broker.length + 1)))].filter((c) => c > 0 && c < broker.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const c of [...bounds, broker.length]) {
    chunks.push(broker.subarray(from, c));
    from = c;
  }
  let issued = 0;
  let answerable = 0;
  let delivered = 0;
  let sent = 0;
  let step = 0;
  const check = () => {
    const got = Buffer.concat(out);
    expect(want.subarray(0, got.length).equals(got), `client got bytes out of order after step ${step}`).toBe(true);
  };
  while (issued < reqs.length || delivered < chunks.length) {
    const chunk = chunks[delivered];
    const canDeliver = chunk !== undefined && chunk.length > 0 && sent + chunk.length <= answerable;
    if (issued < reqs.length && (!canDeliver || choices[step % Math.max(choices.length, 1)])) {
      const r = reqs[issued++];
      if (r.kind === 'local') pipeline.answer(r.correlationId, r.frame);
      else {
        pipeline.expect(r.correlationId, handlingOf(r.kind));
        answerable += r.frame.length;
      }
    } else if (canDeliver) {
      pipeline.push(chunk);
      sent += chunk.length;
      delivered++;
    } else {
      delivered++;
    }
    step++;
    check();
  }
  expect(Buffer.concat(out).equals(want)).toBe(true);
  expect(pipeline.length).toBe(0);
}

const requestMix = fc
  .array(
    fc.record({
      kind: fc.constantFrom<Kind>('pass', 'rewrite', 'unchanged', 'splice', 'local'),
      body: fc.uint8Array({ minLength: 0, maxLength: 64 }),
    }),
    { minLength: 1, maxLength: 24 },
  )
  .map((items) => items.map((it, i): Req => ({ kind: it.kind, correlationId: 1000 + i, frame: frameOf(1000 + i, Buffer.from(it.body)) })));

describe('ResponsePipeline', () => {
  it('releases every response in request order, whatever the mix and however the broker stream is cut', () => {
    fc.assert(
      fc.property(requestMix, fc.array(fc.nat(), { maxLength: 40 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }), (reqs, cuts, choices) =>
        play(reqs, cuts, choices),
      ),
      { numRuns: 3000 },
    );
  });

  it('cut at every position and every pair of positions: [pass, rewrite] and [pass, local, pass] sent before any answer', () => {
    const cases: Req[][] = [
      // The reported leak: a pass-through response ending in the chunk where a rewritten one begins.
      [
        { kind: 'pass', correlationId: 1, frame: frameOf(1, Buffer.from('list-offsets')) },
        { kind: 'rewrite', correlationId: 2, frame: frameOf(2, Buffer.from('metadata-with-denied-topics')) },
      ],
      // The reported reordering: a denial answered by the proxy between two forwarded requests.
      [
        { kind: 'pass', correlationId: 1, frame: frameOf(1, Buffer.from('first')) },
        { kind: 'local', correlationId: 2, frame: frameOf(2, Buffer.from('denied')) },
        { kind: 'splice', correlationId: 3, frame: frameOf(3, Buffer.from('third-response')) },
        { kind: 'pass', correlationId: 4, frame: frameOf(4, Buffer.from('fourth')) },
      ],
    ];
    for (const reqs of cases) {
      const length = reqs.filter((r) => r.kind !== 'local').reduce((n, r) => n + r.frame.length, 0);
      const allIssuedFirst = [true];
      for (let i = 0; i <= length; i++) {
        for (let j = i; j <= length; j++) play(reqs, [i, j], allIssuedFirst);
      }
    }
  });

  it('hands pass-through responses on as views of the chunk they came in, without copying', () => {
    const chunk = Buffer.concat([frameOf(1, Buffer.alloc(100, 1)), frameOf(2, Buffer.alloc(100, 2))]);
    const seen: Buffer[] = [];
    const pipeline = new ResponsePipeline((b) => seen.push(b), () => [], new MemoryBudget(1 << 20).share(() => {}));
    pipeline.expect(1, PASS_THROUGH);
    pipeline.expect(2, PASS_THROUGH);
    pipeline.push(chunk);
    expect(seen).toHaveLength(1);
    expect(seen[0].buffer).toBe(chunk.buffer);
  });

  it('rewrites a response that lies whole in one chunk without holding it, and one the rewrite leaves as it came streams on in place', () => {
    const metadata = frameOf(2, Buffer.alloc(300, 3));
    const chunk = Buffer.concat([frameOf(1, Buffer.alloc(100, 1)), frameOf(3, Buffer.alloc(50, 5)), metadata, frameOf(4, Buffer.alloc(10, 4))]);
    // A budget smaller than the Metadata response: had it been held, this connection would have given way.
    const budget = new MemoryBudget(100);
    const seen: Buffer[] = [];
    const timed: number[] = [];
    const pipeline = new ResponsePipeline((b) => seen.push(b), rewrite, budget.share(() => {}), (apiKey) => timed.push(apiKey));
    pipeline.expect(1, PASS_THROUGH);
    pipeline.expect(3, handlingOf('unchanged'));
    pipeline.expect(2, handlingOf('rewrite'));
    pipeline.expect(4, handlingOf('unchanged'));
    pipeline.push(chunk);
    expect(budget.heldBytes).toBe(0);
    expect(Buffer.concat(seen).equals(Buffer.concat([chunk.subarray(0, 166), ...rewritten(metadata), chunk.subarray(166 + metadata.length)]))).toBe(true);
    // The pass-through and the unchanged Produce response before the rewrite went out as one view of the chunk.
    expect(seen[0].buffer).toBe(chunk.buffer);
    expect(seen[0].length).toBe(166);
    // Only the response the rewrite changed is timed as one the proxy edited.
    expect(timed).toEqual([3]);
  });

  it('holds no more than a splice needs of a large response, and streams the rest', () => {
    const big = frameOf(7, Buffer.alloc(1 << 20, 9));
    const budget = new MemoryBudget(1 << 20);
    const seen: Buffer[] = [];
    const pipeline = new ResponsePipeline((b) => seen.push(b), () => [], budget.share(() => {}));
    pipeline.expect(7, { kind: 'splice', apiKey: API_KEYS.Fetch, splice: SPLICE });
    pipeline.push(big);
    expect(budget.heldBytes).toBe(0);
    expect(Buffer.concat(seen).equals(expected({ kind: 'splice', correlationId: 7, frame: big }))).toBe(true);
    // The tail went out as a view of the broker's chunk, not a copy.
    expect(seen.some((b) => b.buffer === big.buffer && b.length > 1000)).toBe(true);
  });

  it('refuses a response to no request, one answering another request, and one too short to hold an id', () => {
    const a = pipelineWith([]);
    expect(() => a.push(frameOf(5, Buffer.alloc(1)))).toThrow(/to no request/);
    const b = pipelineWith([]);
    b.expect(1, PASS_THROUGH);
    expect(() => b.push(frameOf(2, Buffer.alloc(1)))).toThrow(/correlation id 2 where 1 was owed/);
    const c = pipelineWith([]);
    c.expect(1, PASS_THROUGH);
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(2, 0);
    expect(() => c.push(bad)).toThrow(/response frame of 2 bytes/);
  });

  it('when the proxy-wide budget runs out, the connection holding the most gives way, never the one asking for its turn', () => {
    const budget = new MemoryBudget(1000);
    const evicted: string[] = [];
    const hog: ResponsePipeline = pipelineWith([], budget, () => {
      evicted.push('hog');
      hog.dispose();
    });
    hog.expect(1, handlingOf('rewrite'));
    hog.push(frameOf(1, Buffer.alloc(900)).subarray(0, 700));
    expect(budget.heldBytes).toBe(700);
    // A small response that does not fit beside the hog's: the hog is evicted, the newcomer served.
    const out: Buffer[] = [];
    const victim = pipelineWith(out, budget, () => evicted.push('victim'));
    victim.expect(2, handlingOf('rewrite'));
    // Responses that arrive whole in one chunk are rewritten where they lie: these span two, so they are held.
    const small = frameOf(2, Buffer.alloc(400));
    victim.push(small.subarray(0, 200));
    victim.push(small.subarray(200));
    expect(evicted).toEqual(['hog']);
    expect(Buffer.concat(out).equals(Buffer.concat(rewritten(frameOf(2, Buffer.alloc(400)))))).toBe(true);
    expect(budget.heldBytes).toBe(0);
    // One response larger than the whole budget: its own connection gives way.
    const greedy = pipelineWith([], budget);
    greedy.expect(3, handlingOf('rewrite'));
    greedy.push(frameOf(3, Buffer.alloc(2000)).subarray(0, 900));
    expect(() => greedy.push(frameOf(3, Buffer.alloc(2000)).subarray(900))).toThrow(/budget for held responses is exhausted/);
    greedy.dispose();
    expect(budget.heldBytes).toBe(0);
  });

});

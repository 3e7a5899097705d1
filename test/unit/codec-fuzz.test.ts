import { describe, expect, it } from 'vitest';
import { FuzzFailure, fuzzRequestDecoders } from '../support/fuzz-decoders.js';

describe('request decoders under random, truncated and mutated input', () => {
  // Seconds on a quiet machine; the generous limit is for a loaded one (this is not a timing test).
  it('only ever throw ProtocolError, and always return', { timeout: 120_000 }, () => {
    let decoded = 0;
    try {
      decoded = fuzzRequestDecoders(20261122, 150);
    } catch (e) {
      if (e instanceof FuzzFailure) expect.fail(e.message);
      throw e;
    }
    expect(decoded).toBeGreaterThan(40_000);
  });
});

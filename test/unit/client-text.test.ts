import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_TEXT, quoted, shortened } from '../../src/observe/client-text.js';

describe('client text in log lines and error messages', () => {
  it('keeps what fits, and cuts the rest saying how long it was', () => {
    expect(shortened('orders')).toBe('orders');
    const long = 'x'.repeat(100_000);
    expect(shortened(long)).toBe(`${'x'.repeat(MAX_CLIENT_TEXT)}... (100000 characters)`);
  });

  it('quotes as JSON, so control characters show as escapes, and cuts long values', () => {
    expect(quoted('PLAIN\n')).toBe('"PLAIN\\n"');
    expect(quoted(['kafka', 'other'])).toBe('["kafka","other"]');
    const shown = quoted('M'.repeat(500_000));
    expect(shown).toBe(`"${'M'.repeat(MAX_CLIENT_TEXT)}"... (500000 characters)`);
    expect(quoted(Array.from({ length: 10_000 }, () => 'aud')).length).toBeLessThan(MAX_CLIENT_TEXT + 30);
  });
});

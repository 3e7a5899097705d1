import { describe, expect, it } from 'vitest';
import { parseStraceSummary } from '../../bench/cpu-split.js';

describe('cpu-split bench', () => {
  it('reads the calls column of strace -c, with and without an errors column, and skips the total', () => {
    const summary = [
      'strace: Process 8191 attached with 11 threads',
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 92.81    1.785116        5970       299        18 futex',
      '  1.99    0.038219           9      3842           write',
      '  1.82    0.035025           6      5443           read',
      '  1.32    0.025341          11      2159           writev',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    1.923433         100     19201        34 total',
    ].join('\n');
    expect(parseStraceSummary(summary)).toEqual({ futex: 299, write: 3842, read: 5443, writev: 2159 });
  });
});

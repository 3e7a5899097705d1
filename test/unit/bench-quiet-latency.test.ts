import { describe, expect, it } from 'vitest';
import type { QuietLatencySample } from '../../bench/quiet-latency.js';
import { quietLatencyMarkdown } from '../../bench/quiet-latency-report.js';

describe('quiet-latency report', () => {
  const sample = (round: number, path: QuietLatencySample['path'], p50Us: number, p99Us: number): QuietLatencySample => ({
    round,
    path,
    p50Us,
    p99Us,
    p999Us: p99Us * 2,
    samples: 8000,
    loadAverage: 0.5,
  });

  it('pairs each forwarder with direct and the proxy with the relay round by round, not medians against medians', () => {
    const samples = [
      // Round 2 is slow for everyone: unpaired medians would blur what each hop adds.
      sample(1, 'direct', 400, 900),
      sample(1, 'relay', 450, 1000),
      sample(1, 'proxy', 480, 1100),
      sample(2, 'direct', 900, 3000),
      sample(2, 'relay', 960, 3100),
      sample(2, 'proxy', 1000, 3300),
      sample(3, 'direct', 420, 950),
      sample(3, 'relay', 470, 990),
      sample(3, 'proxy', 490, 1000),
    ];
    const markdown = quietLatencyMarkdown({ rounds: 3, seconds: 20, samples });
    expect(markdown).toContain('| relay | 470 | 1,000 | 2,000 | +50 | +100 |');
    expect(markdown).toContain('| proxy | 490 | 1,100 | 2,200 | +80 | +200 |');
    expect(markdown).toContain("The proxy's p50 less the relay's, paired by round: +30 µs.");
  });
});

import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DeferredCounter } from '../../src/observe/deferred-counter.js';
import { DeferredHistogram } from '../../src/observe/deferred-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1];
const config = (registry: Registry) => ({ name: 'latency_seconds', help: 'h', labelNames: ['api', 'direction'] as const, buckets: BUCKETS, registers: [registry] });
/** On a bound, between bounds, past the last one. */
const SAMPLES: [string, string, number][] = [
  ['Produce', 'request', 0.001],
  ['Produce', 'request', 0.0005],
  ['Produce', 'request', 0.05],
  ['Fetch', 'response', 2],
  ['Fetch', 'response', 0.002],
];

/** Exposition text as a set of samples, each with its labels in name order (prom-client orders `le` differently). */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = /^(\w+)(?:\{(.*)\})? (.+)$/.exec(line)!;
      return `${name}{${labels.split(',').filter(Boolean).sort().join(',')}} ${value}`;
    })
    .sort();
}

function prometheusHistogram(): Registry {
  const registry = new Registry();
  const histogram = new Histogram(config(registry));
  for (const [api, direction, seconds] of SAMPLES) histogram.observe({ api, direction }, seconds);
  return registry;
}

function deferredHistogram(): Registry {
  const registry = new Registry();
  const histogram = new DeferredHistogram(config(registry));
  for (const [api, direction, seconds] of SAMPLES) histogram.cell({ api, direction }).observe(seconds);
  return registry;
}

describe('DeferredHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const expected = samples(await prometheusHistogram().metrics());
    expect(expected.length).toBe(2 * (BUCKETS.length + 3));
    expect(samples(await deferredHistogram().metrics())).toEqual(expected);
  });

  it('is summed over workers as a Histogram is', async () => {
    const sum = async (make: () => Registry) => samples(await AggregatorRegistry.aggregate([await make().getMetricsAsJSON(), await make().getMetricsAsJSON()]).metrics());
    expect(await sum(deferredHistogram)).toEqual(await sum(prometheusHistogram));
  });

  it('gives the same cell for the same labels, so a label set never shows twice', async () => {
    const registry = new Registry();
    const histogram = new DeferredHistogram(config(registry));
    expect(histogram.cell({ api: 'Produce', direction: 'request' })).toBe(histogram.cell({ direction: 'request', api: 'Produce' }));
  });
});

describe('DeferredCounter', () => {
  it('adds what its cells counted when it is read, and only that', async () => {
    const registry = new Registry();
    const counter = new DeferredCounter({ name: 'bytes_total', help: 'h', labelNames: ['listener'] as const, registers: [registry] });
    const cell = counter.cell({ listener: 'a' });
    expect(counter.cell({ listener: 'a' })).toBe(cell);
    cell.n += 100;
    cell.n += 23;
    expect(await registry.getSingleMetricAsString('bytes_total')).toContain('bytes_total{listener="a"} 123');
    cell.n += 7;
    expect(await registry.getSingleMetricAsString('bytes_total')).toContain('bytes_total{listener="a"} 130');
    expect(await registry.getSingleMetricAsString('bytes_total')).toContain('bytes_total{listener="a"} 130');
    expect((await registry.getMetricsAsJSON())[0].values).toEqual([{ labels: { listener: 'a' }, value: 130 }]);
    expect(counter).toBeInstanceOf(Counter);
  });
});

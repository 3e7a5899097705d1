import { type Aggregator, Histogram, type HistogramConfiguration } from 'prom-client';

/** Where durations of one label set are observed, at the cost of a few comparisons. */
export interface DurationCell {
  observe(seconds: number): void;
}

type Labels<T extends string> = Partial<Record<T, string | number>>;
type Snapshot<T extends string> = Awaited<ReturnType<Histogram<T>['get']>>;

/** One label set's observations: per-bucket counts (not cumulative), their sum and count. */
class BucketCounts<T extends string> implements DurationCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Labels<T>,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    if (i < bounds.length) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A Histogram for the hot path: prom-client builds a string from the labels and allocates on
 * every observe (about a microsecond), so each label set gets a cell of plain numbers, and the
 * metric reports the cells, laid out as prom-client's Histogram lays out its own, when it is
 * collected. Still a Histogram, so registries and the cluster aggregation treat it as one.
 */
export class DeferredHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[];
  private readonly labelOrder: readonly T[];
  private readonly cells = new Map<string, BucketCounts<T>>();
  private readonly description: { name: string; help: string; aggregator: Aggregator };

  constructor(config: HistogramConfiguration<T> & { buckets: number[] }) {
    super(config);
    this.bounds = [...config.buckets];
    this.labelOrder = config.labelNames ?? [];
    this.description = { name: config.name, help: config.help, aggregator: config.aggregator ?? 'sum' };
  }

  /** The cell of this label set (the same one on every call): take it once, then observe on it. */
  cell(labels: Labels<T>): DurationCell {
    const key = JSON.stringify(this.labelOrder.map((name) => labels[name]));
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new BucketCounts(this.bounds, labels)));
    return cell;
  }

  override async get(): Promise<Snapshot<T>> {
    return this.snapshot();
  }

  /** What prom-client's registry formats instead of get() when a metric has it (its Histogram does): the same snapshot. */
  getForPromString(): Promise<Snapshot<T>> {
    return this.get();
  }

  private snapshot(): Snapshot<T> {
    const { name, help, aggregator } = this.description;
    const values: Snapshot<T>['values'] = [];
    const at = (labels: Labels<T>, le: number | string) => ({ ...labels, le }) as Labels<T>;
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cell.counts[i];
        values.push({ labels: at(cell.labels, bound), value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: at(cell.labels, '+Inf'), value: cell.count, metricName: `${name}_bucket` });
      values.push({ labels: cell.labels, value: cell.sum, metricName: `${name}_sum` });
      values.push({ labels: cell.labels, value: cell.count, metricName: `${name}_count` });
    }
    // prom-client's typings say type is a numeric enum; at run time, and in every report a worker sends, it is the name.
    return { name, help, type: 'histogram', aggregator, values } as unknown as Snapshot<T>;
  }
}

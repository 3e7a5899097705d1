import { Counter, type CounterConfiguration } from 'prom-client';

/** A count kept in a plain number by whoever makes it; added to its counter when that is read. */
export interface CountCell {
  n: number;
}

type Labels<T extends string> = Partial<Record<T, string | number>>;

/**
 * A Counter for the hot path: prom-client turns the labels into a string on every inc (hundreds
 * of nanoseconds), so each label set gets a cell that callers add to, and the cells are added to
 * the counter when it is collected (a scrape, or a worker's report).
 */
export class DeferredCounter<T extends string> extends Counter<T> {
  private readonly labelOrder: readonly T[];
  private readonly cells = new Map<string, { labels: Labels<T>; cell: CountCell }>();

  constructor(config: CounterConfiguration<T>) {
    super(config);
    this.labelOrder = config.labelNames ?? [];
  }

  /** The cell of this label set (the same one on every call): take it once, then add to its `n`. */
  cell(labels: Labels<T>): CountCell {
    const key = JSON.stringify(this.labelOrder.map((name) => labels[name]));
    let entry = this.cells.get(key);
    if (!entry) this.cells.set(key, (entry = { labels, cell: { n: 0 } }));
    return entry.cell;
  }

  override async get() {
    for (const { labels, cell } of this.cells.values()) {
      if (cell.n === 0) continue;
      this.inc(labels, cell.n);
      cell.n = 0;
    }
    return super.get();
  }
}

/**
 * Kafka's order of topic names: Java's String.compareTo, by UTF-16 code units (not by locale),
 * which DescribeTopicPartitions pages and cursors follow.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index of the first name in `sorted` (in Kafka's order) that is not before `name`. */
export function firstAtOrAfter(sorted: readonly string[], name: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < name) low = mid + 1;
    else high = mid;
  }
  return low;
}

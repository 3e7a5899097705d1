/** A Kafka spec version range; `max` is Infinity for open ranges such as "3+". */
export interface VersionRange {
  min: number;
  max: number;
}

export const NO_VERSIONS: VersionRange = { min: 1, max: 0 };

/** Parses "3+", "0-7", "4" or "none". */
export function parseVersions(text: string | undefined): VersionRange {
  if (text === undefined || text === 'none') return NO_VERSIONS;
  const open = /^(\d+)\+$/.exec(text);
  if (open) return { min: Number(open[1]), max: Infinity };
  const closed = /^(\d+)-(\d+)$/.exec(text);
  if (closed) return { min: Number(closed[1]), max: Number(closed[2]) };
  if (/^\d+$/.test(text)) return { min: Number(text), max: Number(text) };
  throw new Error(`unparseable version range ${JSON.stringify(text)}`);
}

export function isEmpty(r: VersionRange): boolean {
  return r.min > r.max;
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  return { min: Math.max(a.min, b.min), max: Math.min(a.max, b.max) };
}

/**
 * A TypeScript condition on `version` that is true exactly for versions in `range`, simplified
 * for the versions `context` can actually hold: 'true' or 'false' when it is constant there.
 */
export function versionCondition(range: VersionRange, context: VersionRange): string {
  const r = intersect(range, context);
  if (isEmpty(r)) return 'false';
  const needMin = r.min > context.min;
  const needMax = r.max < context.max;
  if (!needMin && !needMax) return 'true';
  if (needMin && needMax) {
    return r.min === r.max ? `version === ${r.min}` : `(version >= ${r.min} && version <= ${r.max})`;
  }
  return needMin ? `version >= ${r.min}` : `version <= ${r.max}`;
}

/** `a ? b : c` with constant conditions folded away. */
export function choose(condition: string, whenTrue: string, whenFalse: string): string {
  if (condition === 'true' || whenTrue === whenFalse) return whenTrue;
  if (condition === 'false') return whenFalse;
  return `(${condition} ? ${whenTrue} : ${whenFalse})`;
}

/** `if (a) b else c` with constant conditions folded away; b and c are statements. */
export function chooseStatement(condition: string, whenTrue: string, whenFalse: string): string {
  if (condition === 'true' || whenTrue === whenFalse) return whenTrue;
  if (condition === 'false') return whenFalse;
  return `if (${condition}) { ${whenTrue} } else { ${whenFalse} }`;
}

/** Finite upper bound for tables (open ranges end at the message's highest valid version). */
export function finiteMax(r: VersionRange, validMax: number): number {
  return r.max === Infinity ? validMax : r.max;
}

/**
 * The top-level keys that occur more than once in one JSON log line. JSON.parse keeps the last
 * of them silently, so a log line that repeats a key (a child logger's binding logged again)
 * reads fine in a test and ambiguously in a log pipeline.
 */
export function repeatedKeys(line: string): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      const start = i;
      for (i++; line[i] !== '"'; i++) if (line[i] === '\\') i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (line[j] === ' ') j++;
      if (line[j] !== ':') continue;
      const key = JSON.parse(line.slice(start, i + 1)) as string;
      if (seen.has(key)) repeated.push(key);
      seen.add(key);
    }
  }
  return repeated;
}

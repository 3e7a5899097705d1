/** Measured on Node 20: a startsWith scan wins below about 4 prefixes, a trie walk above. */
const SCAN_LIMIT = 4;

interface TrieNode {
  next: Map<number, TrieNode>;
  /** A prefix ends here; nothing below it needs looking at. */
  end: boolean;
}

/** Tells whether a name starts with any of a fixed set of non-empty prefixes. */
export class PrefixSet {
  private readonly scan: readonly string[];
  private readonly trie: TrieNode | undefined;

  constructor(prefixes: Iterable<string>) {
    const kept = withoutCovered(prefixes);
    this.scan = kept.length <= SCAN_LIMIT ? kept : [];
    this.trie = kept.length > SCAN_LIMIT ? buildTrie(kept) : undefined;
  }

  matches(name: string): boolean {
    if (this.trie) return trieMatches(this.trie, name);
    for (const p of this.scan) if (name.startsWith(p)) return true;
    return false;
  }
}

/** Sorted, without prefixes that a shorter one already covers ("orders-" covers "orders-eu-"). */
function withoutCovered(prefixes: Iterable<string>): string[] {
  const kept: string[] = [];
  // Sorted, everything a prefix covers comes right after it.
  for (const p of [...new Set(prefixes)].sort()) if (!kept.length || !p.startsWith(kept[kept.length - 1])) kept.push(p);
  return kept;
}

function buildTrie(prefixes: readonly string[]): TrieNode {
  const root: TrieNode = { next: new Map(), end: false };
  for (const p of prefixes) {
    let node = root;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      let child = node.next.get(c);
      if (!child) node.next.set(c, (child = { next: new Map(), end: false }));
      node = child;
    }
    node.end = true;
  }
  return root;
}

function trieMatches(root: TrieNode, name: string): boolean {
  let node = root;
  for (let i = 0; i < name.length; i++) {
    const child = node.next.get(name.charCodeAt(i));
    if (!child) return false;
    if (child.end) return true;
    node = child;
  }
  return false;
}

/** One connection's part of a proxy-wide memory budget. */
export interface BudgetShare {
  /** Bytes this connection holds now. */
  readonly held: number;
  /**
   * Sets what this connection holds to `bytes`. When that would pass the budget, connections
   * holding more than `bytes` are evicted, largest first, until it fits; false (share unchanged)
   * when it still does not fit, and this connection is the one to give up.
   */
  set(bytes: number): boolean;
  /** Gives everything back (the connection is closing or holds nothing any more). */
  release(): void;
}

interface Holder {
  held: number;
  evict(): void;
}

/**
 * Bytes many connections hold together (incomplete frames, responses held to rewrite them). When
 * it runs out, the largest holder pays, never the connection that merely asked for its turn: a
 * tenant cannot fill the budget and have others' requests refused.
 */
export class MemoryBudget {
  private total = 0;
  private readonly holders = new Set<Holder>();

  /** A reload may change it; connections already past a lower budget are evicted when they next ask for more. */
  constructor(public maxBytes: number) {}

  get heldBytes(): number {
    return this.total;
  }

  /** `evict` must close the connection, which releases its share, before it returns. */
  share(evict: () => void): BudgetShare {
    const holder: Holder = { held: 0, evict };
    const budget = this;
    return {
      get held() {
        return holder.held;
      },
      set(bytes) {
        // Asked after every read and every response: most often nothing changed.
        if (bytes === holder.held) return true;
        if (!budget.makeRoom(holder, bytes)) return false;
        budget.total += bytes - holder.held;
        holder.held = bytes;
        if (bytes > 0) budget.holders.add(holder);
        else budget.holders.delete(holder);
        return true;
      },
      release() {
        budget.total -= holder.held;
        holder.held = 0;
        budget.holders.delete(holder);
      },
    };
  }

  private makeRoom(asking: Holder, bytes: number): boolean {
    while (this.total - asking.held + bytes > this.maxBytes) {
      const largest = this.largestOther(asking);
      if (largest === undefined || largest.held <= bytes) return false;
      const before = this.total;
      largest.evict();
      // An evict that released nothing would loop forever: give up instead.
      if (this.total >= before) return false;
    }
    return true;
  }

  private largestOther(asking: Holder): Holder | undefined {
    let largest: Holder | undefined;
    for (const h of this.holders) if (h !== asking && (largest === undefined || h.held > largest.held)) largest = h;
    return largest;
  }
}

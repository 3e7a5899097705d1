/**
 * Bytes of broker responses the whole proxy holds in memory to rewrite them (responses that pass
 * through unchanged are never held). Each connection holds at most one such response at a time;
 * the budget bounds what many connections can make the proxy hold together.
 */
export class HeldBytesBudget {
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get heldBytes(): number {
    return this.held;
  }

  /** Reserves `n` bytes; false (and nothing reserved) when that would pass the budget. */
  take(n: number): boolean {
    if (this.held + n > this.maxBytes) return false;
    this.held += n;
    return true;
  }

  release(n: number): void {
    this.held -= n;
  }
}

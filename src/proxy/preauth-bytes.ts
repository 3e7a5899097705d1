/** One connection's part of the pre-authentication byte budget. */
export interface PreAuthBytesShare {
  /** Sets what this connection holds to `bytes`; false (share unchanged) when that would pass the budget. */
  set(bytes: number): boolean;
  release(): void;
}

/**
 * Bytes that the unauthenticated connections of the whole proxy hold in incomplete frames.
 * Per-connection frame limits alone let many connections together hold a lot before any of them
 * has proven who it is; this bounds the sum.
 */
export class PreAuthBytesBudget {
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get heldBytes(): number {
    return this.held;
  }

  /** `refused` runs whenever the share is denied, to count and log it. */
  share(refused: () => void): PreAuthBytesShare {
    let mine = 0;
    return {
      set: (bytes) => {
        if (this.held - mine + bytes > this.maxBytes) {
          refused();
          return false;
        }
        this.held += bytes - mine;
        mine = bytes;
        return true;
      },
      release: () => {
        this.held -= mine;
        mine = 0;
      },
    };
  }
}

/** What a line may say after a quiet spell: how many lines of its kind were left out before it. */
export interface LineAllowed {
  notLogged: number;
}

/**
 * At most `perSecond` log lines of each kind in any one-second window: something a client can
 * make happen at will (a refused connection, a failed authentication) cannot flood the log. The
 * first line of the next window says how many were left out. Kinds are a small fixed set
 * (reasons, listeners), never a client's value.
 */
export class LineBudget<Kind> {
  private readonly windows = new Map<Kind, { startedAt: number; lines: number; notLogged: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Spends one line of `kind`, or undefined when its budget for this window is spent (the line is counted as left out). */
  take(kind: Kind, now = this.now()): LineAllowed | undefined {
    const window = this.windows.get(kind);
    if (!window || now - window.startedAt >= 1000) {
      this.windows.set(kind, { startedAt: now, lines: 1, notLogged: 0 });
      return { notLogged: window?.notLogged ?? 0 };
    }
    if (window.lines >= this.perSecond) {
      window.notLogged++;
      return undefined;
    }
    window.lines++;
    return { notLogged: 0 };
  }
}

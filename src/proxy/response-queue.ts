import type { ResponseEdit } from './request-authorizer.js';

/** A response the client is owed, in the order its requests arrived. */
export interface OwedResponse {
  correlationId: number;
  /**
   * Set when the broker's answer must be rewritten: the request's API and version, and what
   * authorization changes in it (denied entries merged back, listings filtered).
   */
  rewrite: { apiKey: number; version: number; edit?: ResponseEdit } | undefined;
  /** Set when the proxy answers itself: the complete response frame. */
  local: Buffer | undefined;
}

/**
 * FIFO of owed responses. Kafka answers a connection's requests in order, so the head is
 * always the next response the client must get, whether it comes from the broker or from the
 * proxy (a SASL answer, a denial).
 */
export class ResponseQueue {
  private items: OwedResponse[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): OwedResponse | undefined {
    return this.items[this.head];
  }

  push(item: OwedResponse): void {
    this.items.push(item);
  }

  shift(): OwedResponse | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head++] = undefined as never;
    // Compact now and then so the array does not grow with the connection's lifetime.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

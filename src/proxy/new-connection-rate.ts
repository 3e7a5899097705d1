import { LRUCache } from 'lru-cache';

/** Client IPs tracked at once; past it the least recently seen is forgotten (its bucket was most likely full again). */
export const MAX_TRACKED_IPS = 10_000;

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/**
 * New connections per second per client IP, as a token bucket: an IP may open `perSecond`
 * connections at once, then `perSecond` a second. Memory stays bounded however many addresses
 * connect: at most `maxTrackedIps` buckets are kept, least recently used dropped first.
 */
export class NewConnectionRate {
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(
    /** Changed by a reload; buckets refill at the new rate from then on. */
    public perSecond: number,
    private readonly now: () => number = () => performance.now(),
    maxTrackedIps = MAX_TRACKED_IPS,
  ) {
    this.buckets = new LRUCache({ max: maxTrackedIps });
  }

  get trackedIps(): number {
    return this.buckets.size;
  }

  /** Takes one new connection from `ip`'s allowance; false when it is spent for now. */
  take(ip: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(ip);
    if (!bucket) {
      this.buckets.set(ip, { tokens: this.perSecond - 1, refilledAt: now });
      return true;
    }
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.refilledAt) * this.perSecond) / 1000);
    bucket.refilledAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

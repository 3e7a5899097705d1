import type { Logger } from 'pino';
import { byCodeUnits } from '../authz/topic-order.js';
import { ZERO_UUID } from '../protocol/codec-support.js';

export interface TopicIdEntry {
  topicId: string;
  name: string | null;
}

/** Asks the cluster for every topic's id and name (the proxy's own Metadata request). */
export type TopicListing = () => Promise<readonly TopicIdEntry[]>;

/** A miss asks the cluster at most this often: a client naming bogus ids cannot make the proxy hammer the brokers. */
const MIN_REFRESH_INTERVAL_MS = 1000;

/**
 * Topic id -> name, so requests that name topics by id (Fetch v13+, DeleteTopics v6, Metadata
 * by id) are authorized by name. Learned from responses that pass through and, on a miss, from
 * one Metadata request shared by everyone waiting for it. Ids are never reused by Kafka, so a
 * learned name never goes stale. The map holds one entry per topic the cluster has had.
 * The same listing also gives the names of the topics the cluster has now, for requests that
 * ask about every topic and must be answered from those the principal may see.
 */
export class TopicIds {
  private readonly names = new Map<string, string>();
  private refreshing: Promise<void> | undefined;
  private lastRefreshAt = -Infinity;
  /** The cluster's topic names, sorted, from the last listing that succeeded. */
  private listedNames: readonly string[] | undefined;
  private listedAt = -Infinity;

  constructor(
    private readonly listTopics: TopicListing,
    private readonly log: Logger,
  ) {}

  name(id: string): string | undefined {
    return this.names.get(id);
  }

  learn(id: string, name: string | null): void {
    if (name !== null && id !== ZERO_UUID) this.names.set(id, name);
  }

  /** Whether every id is known already (the common case, decided without waiting). */
  knowsAll(ids: readonly string[]): boolean {
    for (const id of ids) if (!this.names.has(id)) return false;
    return true;
  }

  /** Learns the cluster's current topics if some id is unknown; resolves either way (an id still unknown is the caller's to answer). */
  async resolve(ids: readonly string[]): Promise<void> {
    if (this.knowsAll(ids)) return;
    await this.relist();
  }

  /** The cluster's topic names in Kafka's order (UTF-16 code units, as Java's String.compareTo), as last listed; undefined if no listing has succeeded. */
  topicNames(): readonly string[] | undefined {
    return this.listedNames;
  }

  /** Whether the last listing is recent enough to answer from without asking the cluster again. */
  listedRecently(): boolean {
    return Date.now() - this.listedAt < MIN_REFRESH_INTERVAL_MS;
  }

  /** Lists the cluster's topics again, unless a listing is under way or was started within the refresh interval; resolves either way. */
  async relist(): Promise<void> {
    if (!this.refreshing && Date.now() - this.lastRefreshAt >= MIN_REFRESH_INTERVAL_MS) {
      this.lastRefreshAt = Date.now();
      this.refreshing = this.refresh().finally(() => (this.refreshing = undefined));
    }
    await this.refreshing;
  }

  private async refresh(): Promise<void> {
    const startedAt = Date.now();
    try {
      const names: string[] = [];
      for (const t of await this.listTopics()) {
        this.learn(t.topicId, t.name);
        if (t.name !== null) names.push(t.name);
      }
      this.listedNames = names.sort(byCodeUnits);
      this.listedAt = startedAt;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'cannot list topics to learn topic ids; unknown ids are answered UNKNOWN_TOPIC_ID');
    }
  }
}

/** A topic of a mirrored fetch session: its partitions, and whether the broker's session holds them. */
export interface MirroredTopic {
  /** As the client names it: by name before Fetch v13, by id from v13. */
  readonly topic: string;
  readonly partitions: Set<number>;
  /**
   * 0 when the broker's session holds these partitions; else the proxy kept them out, and answers
   * them with this error on every fetch of the session, as Kafka answers a session partition it refuses.
   */
  readonly errorCode: number;
}

/** What happens to fetch sessions, as kafka_proxy_fetch_sessions_total counts it. */
export type FetchSessionEvent = 'opened' | 'incremental' | 'ended' | 'refused';

/** One fetch session (KIP-227) as the proxy let it form on the broker. */
export interface MirroredSession {
  readonly id: number;
  /** The epoch the client's next incremental fetch must carry. */
  nextEpoch: number;
  /** Whether it names topics by id (opened at Fetch v13 or later), which it must keep doing. */
  readonly byId: boolean;
  /** By topic, as the client names it. */
  readonly topics: Map<string, MirroredTopic>;
  /** Partitions in `topics`, held ones and kept-out ones. */
  partitionCount: number;
  /** The SessionAccess decisionsVersion its topics were decided at. */
  decidedAt: number;
}

/** Kafka's FetchMetadata.nextEpoch: after the largest int comes 1. */
export function nextEpoch(epoch: number): number {
  return epoch === 0x7fffffff ? 1 : epoch + 1;
}

/**
 * The fetch session of one client connection, as the broker holds it: the partitions the proxy
 * let into it, the ones it kept out, and the epoch the next incremental fetch must carry. A
 * broker ties a session to its id, not to a connection or a principal, and authorizes every
 * partition of a session on every fetch; behind the proxy it authorizes nothing, so the proxy
 * does it from here. Only a session opened on this connection can be used through it, and
 * since every fetch it forwards carries the epoch the broker expects, the broker's session holds
 * exactly what is mirrored here (a fetch the broker refuses leaves the session unusable, never
 * larger). One session per connection, as clients keep one per broker connection.
 */
export class FetchSessionMirror {
  private session: MirroredSession | undefined;

  constructor(
    /** A session may hold no more partitions than one request may name (limits.maxEntitiesPerRequest). */
    readonly maxPartitions: number,
    /** Counts what happens to the connection's sessions. */
    readonly counted: (event: FetchSessionEvent) => void = () => {},
  ) {}

  get current(): MirroredSession | undefined {
    return this.session;
  }

  /** The session is gone, or no longer to be used through this connection. */
  drop(): void {
    this.session = undefined;
  }

  /** The proxy ends the session: the client is told it is gone and starts over with a full fetch. */
  end(): void {
    this.session = undefined;
    this.counted('ended');
  }

  /** The broker opened session `id` for a full fetch of `topics` (held and kept out, as decided then). */
  open(id: number, byId: boolean, topics: readonly MirroredTopic[], decidedAt: number): void {
    const session: MirroredSession = { id, nextEpoch: 1, byId, topics: new Map(), partitionCount: 0, decidedAt };
    for (const t of topics) add(session, t.topic, t.partitions, t.errorCode);
    this.session = session;
    this.counted('opened');
  }
}

/** Adds partitions of a topic whose decision the session already has, or a new topic. */
export function add(session: MirroredSession, topic: string, partitions: Iterable<number>, errorCode: number): void {
  let entry = session.topics.get(topic);
  if (entry === undefined) {
    entry = { topic, partitions: new Set(), errorCode };
    session.topics.set(topic, entry);
  }
  for (const p of partitions) {
    if (entry.partitions.has(p)) continue;
    entry.partitions.add(p);
    session.partitionCount++;
  }
}

/** Removes partitions the client forgot (unknown ones are ignored, as the broker ignores them). */
export function forget(session: MirroredSession, topic: string, partitions: readonly number[]): void {
  const entry = session.topics.get(topic);
  if (entry === undefined) return;
  for (const p of partitions) if (entry.partitions.delete(p)) session.partitionCount--;
  if (entry.partitions.size === 0) session.topics.delete(topic);
}

/** Whether the broker's session still holds a partition (it closes a session that has none left). */
export function holdsAny(session: MirroredSession): boolean {
  for (const t of session.topics.values()) if (t.errorCode === 0) return true;
  return false;
}

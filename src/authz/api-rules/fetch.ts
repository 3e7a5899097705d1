import type { FetchRequest, FetchRequestFetchTopic } from '../../protocol/generated/messages/FetchRequest.js';
import {
  type FetchResponse,
  defaultFetchResponse,
  defaultFetchResponseFetchableTopicResponse,
  defaultFetchResponsePartitionData,
} from '../../protocol/generated/messages/FetchResponse.js';
import { type FetchSessionMirror, type MirroredSession, type MirroredTopic, add, forget, holdsAny, nextEpoch } from '../fetch-session-mirror.js';
import {
  FETCH_SESSION_ID_NOT_FOUND,
  FETCH_SESSION_TOPIC_ID_ERROR,
  INVALID_FETCH_SESSION_EPOCH,
  TOPIC_AUTHORIZATION_FAILED,
  UNKNOWN_TOPIC_ID,
} from './errors.js';
import type { ApiRule, Outcome, RuleContext } from './rule.js';

/** Fetch names topics by id from this version on (KIP-516). */
const FETCH_TOPIC_IDS_FROM = 13;
/** Fetch sessions (KIP-227) exist from this version on. */
const FETCH_SESSIONS_FROM = 7;
/** A full fetch with this epoch opens a session (closing the one it names, if any). */
const INITIAL_EPOCH = 0;
/** A full fetch with this epoch has no session (and closes the one it names, if any). */
const FINAL_EPOCH = -1;
/** The session id of a fetch without a session; brokers never give it to one. */
const NO_SESSION = 0;

type FetchOutcome = Outcome<FetchResponse>;

/** The topic id of a response entry that names its topic by name. */
const ZERO_ID = defaultFetchResponseFetchableTopicResponse().topicId;

/** A topic answered with an error on the partitions named. */
interface TopicError {
  topic: string;
  topicId: string;
  partitions: Iterable<number>;
  errorCode: number;
}

/** Error entries for every partition of `topics`. */
function fetchErrors(topics: readonly TopicError[]): FetchResponse['responses'] {
  return topics.map((t) => ({
    ...defaultFetchResponseFetchableTopicResponse(),
    topic: t.topic,
    topicId: t.topicId,
    partitions: Array.from(t.partitions, (partitionIndex) => ({ ...defaultFetchResponsePartitionData(), partitionIndex, errorCode: t.errorCode, highWatermark: -1n })),
  }));
}

function fetchReplicaId(req: FetchRequest, version: number): number {
  return version >= 15 ? req.replicaState.replicaId : req.replicaId;
}

function sessionError(errorCode: number): FetchOutcome {
  return { action: 'answer', response: { ...defaultFetchResponse(), errorCode } };
}

/** An incremental fetch outside this connection's session, or out of step with it: answered as the broker would. */
function refused(mirror: FetchSessionMirror, errorCode: number): FetchOutcome {
  mirror.counted('refused');
  return sessionError(errorCode);
}

/** The proxy ends the session; the client starts over with a full fetch, checked in full. */
function ended(mirror: FetchSessionMirror): FetchOutcome {
  mirror.end();
  return sessionError(FETCH_SESSION_ID_NOT_FOUND);
}

/**
 * What a topic gets: 0 (read allowed), TOPIC_AUTHORIZATION_FAILED, or UNKNOWN_TOPIC_ID for an id
 * the proxy cannot name (so the client refreshes its metadata). `check` logs denials; `permits` does not.
 */
function topicDecision(ref: string, byId: boolean, ctx: RuleContext, quiet: boolean): number {
  const name = byId ? ctx.topicName(ref) : ref;
  if (name === undefined) return UNKNOWN_TOPIC_ID;
  const allowed = quiet ? ctx.access.permits('topic', name, 'read') : ctx.access.check('topic', name, 'read');
  return allowed ? 0 : TOPIC_AUTHORIZATION_FAILED;
}

/** How the client names a topic in this fetch: by name before v13, by id from v13. */
function topicRef(t: { topic: string; topicId: string }, byId: boolean): string {
  return byId ? t.topicId : t.topic;
}

/** The session's kept-out partitions, as the error entries every response of the session carries. */
function keptOut(session: MirroredSession): FetchResponse['responses'] {
  const out: TopicError[] = [];
  for (const t of session.topics.values()) {
    if (t.errorCode !== 0) out.push({ topic: session.byId ? '' : t.topic, topicId: session.byId ? t.topic : ZERO_ID, partitions: t.partitions, errorCode: t.errorCode });
  }
  return fetchErrors(out);
}

/**
 * Whether every topic of the session would still be decided as it was (after a policy reload, a
 * re-authentication, new roles or a mode switch); the session's decisions are then current again.
 */
function stillDecidedAlike(session: MirroredSession, ctx: RuleContext): boolean {
  for (const t of session.topics.values()) if (topicDecision(t.topic, session.byId, ctx, true) !== t.errorCode) return false;
  session.decidedAt = ctx.access.decisionsVersion;
  return true;
}

/**
 * A fetch without a session, or one that opens a session: every topic named is checked, the
 * denied ones' errors go in front of the broker's streamed answer. A session the broker opens
 * for it is mirrored from its answer, with the denied topics kept out of it.
 */
function fullFetch(req: FetchRequest, ctx: RuleContext): FetchOutcome {
  const sessions = ctx.version >= FETCH_SESSIONS_FROM;
  const byId = ctx.version >= FETCH_TOPIC_IDS_FROM;
  const mirror = ctx.fetchSession;
  const own = sessions && req.sessionId !== NO_SESSION && req.sessionId === mirror.current?.id;
  // A full fetch names a session only to close it: another connection's session is not this client's to close.
  const foreign = sessions && req.sessionId !== NO_SESSION && !own;
  const opens = sessions && req.sessionEpoch === INITIAL_EPOCH;
  // One session per connection: a new one replaces the old, which is no longer used through the proxy.
  if (own || opens) mirror.drop();
  const allowed: FetchRequestFetchTopic[] = [];
  const denied: TopicError[] = [];
  const decided: MirroredTopic[] = [];
  for (const t of req.topics) {
    const errorCode = topicDecision(topicRef(t, byId), byId, ctx, false);
    if (errorCode === 0) allowed.push(t);
    // A sessionless fetch of allowed topics, the common case, needs nothing more.
    if (errorCode === 0 && !opens) continue;
    const partitions = t.partitions.map((p) => p.partition);
    if (errorCode !== 0) denied.push({ topic: t.topic, topicId: t.topicId, partitions, errorCode });
    if (opens) decided.push({ topic: topicRef(t, byId), partitions: new Set(partitions), errorCode });
  }
  const leading = denied.length > 0 ? fetchErrors(denied) : undefined;
  if (allowed.length === 0 && leading) return { action: 'answer', response: { ...defaultFetchResponse(), responses: leading } };
  const decidedAt = ctx.access.decisionsVersion;
  const sessionOpened = opens
    ? (sessionId: number) => {
        if (sessionId !== NO_SESSION) mirror.open(sessionId, byId, decided, decidedAt);
      }
    : undefined;
  if (!foreign && !leading) return { action: 'forward', sessionOpened };
  return { action: 'rebuild', request: { ...req, sessionId: foreign ? NO_SESSION : req.sessionId, topics: allowed }, leading, sessionOpened };
}

/**
 * An incremental fetch names only what changed in the session; the broker fetches the rest of
 * it as well. So it goes ahead only in the session this connection opened, at the epoch the
 * broker expects; the topics it adds are checked, the denied ones kept out of the session and
 * answered with their error on every fetch of it; and once a policy, credential, role or mode
 * change would decide any topic of the session otherwise, the client is told the session is
 * gone and starts over with a full fetch, which is checked in full.
 */
function incrementalFetch(req: FetchRequest, ctx: RuleContext): FetchOutcome {
  const mirror = ctx.fetchSession;
  const session = mirror.current;
  if (session === undefined || session.id !== req.sessionId) return refused(mirror, FETCH_SESSION_ID_NOT_FOUND);
  if (req.sessionEpoch !== session.nextEpoch) return refused(mirror, INVALID_FETCH_SESSION_EPOCH);
  const byId = ctx.version >= FETCH_TOPIC_IDS_FROM;
  if (byId !== session.byId) return refused(mirror, FETCH_SESSION_TOPIC_ID_ERROR);
  if (session.decidedAt !== ctx.access.decisionsVersion && !stillDecidedAlike(session, ctx)) return ended(mirror);
  const allowed: FetchRequestFetchTopic[] = [];
  for (const t of req.topics) {
    const ref = topicRef(t, byId);
    const errorCode = topicDecision(ref, byId, ctx, false);
    // A topic decided otherwise than when it joined (an id the proxy has learned since): start over.
    const known = session.topics.get(ref);
    if (known !== undefined && known.errorCode !== errorCode) return ended(mirror);
    add(
      session,
      ref,
      t.partitions.map((p) => p.partition),
      errorCode,
    );
    if (errorCode === 0) allowed.push(t);
  }
  for (const f of req.forgottenTopicsData) forget(session, topicRef(f, byId), f.partitions);
  if (session.partitionCount > mirror.maxPartitions) return ended(mirror);
  session.nextEpoch = nextEpoch(session.nextEpoch);
  mirror.counted('incremental');
  // The broker closes a session left with no partition; its answer then names no session.
  if (!holdsAny(session)) mirror.drop();
  const out = keptOut(session);
  const leading = out.length > 0 ? out : undefined;
  if (allowed.length === req.topics.length) return { action: 'forward', leading };
  return { action: 'rebuild', request: { ...req, topics: allowed }, leading };
}

/**
 * Fetch: Topic Read per topic (29 per partition). The denied topics' errors are put in front of
 * the broker's answer for the allowed ones while it streams through (never held). From v13
 * topics come by id: a name the proxy cannot learn answers UNKNOWN_TOPIC_ID (100), so the
 * client refreshes its metadata. A fetch as a follower replica is broker traffic
 * (ClusterAction) and always refused, answered as Kafka answers a follower without
 * ClusterAction: 29 on every partition. Fetch sessions (KIP-227) are kept, checked through
 * the connection's FetchSessionMirror.
 */
export const fetchRule: ApiRule<FetchRequest, FetchResponse> = {
  topicIds: (req, version) => (version >= FETCH_TOPIC_IDS_FROM ? req.topics.map((t) => t.topicId) : []),
  authorize(req, ctx): FetchOutcome {
    if (fetchReplicaId(req, ctx.version) >= 0) {
      ctx.access.refuse('cluster', 'kafka-cluster', 'cluster-action');
      const all = req.topics.map((t) => ({ topic: t.topic, topicId: t.topicId, partitions: t.partitions.map((p) => p.partition), errorCode: TOPIC_AUTHORIZATION_FAILED }));
      return { action: 'answer', response: { ...defaultFetchResponse(), responses: fetchErrors(all) } };
    }
    const full = ctx.version < FETCH_SESSIONS_FROM || req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH;
    return full ? fullFetch(req, ctx) : incrementalFetch(req, ctx);
  },
};

import { compilePolicy } from '../src/authz/compiled-policy.js';
import { DenialLog } from '../src/authz/denial-log.js';
import { parsePolicy } from '../src/authz/policy-file.js';
import { SessionAccess } from '../src/authz/session-access.js';
import { DEFAULT_MAX_ENTITIES_PER_REQUEST } from '../src/config/schema.js';
import { AccessRecorder } from '../src/migration/access-recorder.js';
import { ListenerMetrics } from '../src/observe/listener-metrics.js';
import { createLogger } from '../src/observe/logger.js';
import { ProxyMetrics } from '../src/observe/metrics.js';
import { FrameSplitter } from '../src/protocol/frame-splitter.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { isOfferedVersion } from '../src/proxy/client-apis.js';
import { produceAcks } from '../src/proxy/produce-acks.js';
import { RequestAuthorizer } from '../src/proxy/request-authorizer.js';
import { TopicIds } from '../src/proxy/topic-ids.js';
import { benchPolicy } from './bench-policy.js';
import { type BenchTopic, benchTopics, multiTopicFetchFrame, multiTopicProduceFrame } from './hotpath-requests.js';
import { measureAllocation, measureRate } from './measure.js';

export interface HotpathCase {
  name: string;
  frameBytes: number;
  /** Frame split + header read + hand-off: a listener without a policy. */
  baselinePerSecond: number;
  baselineBytesAllocated: number;
  /** The same with RequestAuthorizer.decide in between (decode, rule, policy checks), enforce mode. */
  authorizedPerSecond: number;
  authorizedBytesAllocated: number;
  /** What authorization adds to each request: 1 / authorized - 1 / baseline. */
  authorizationMicros: number;
  /** The authorized path with the access recorder on (a listener that records: audit, authentication none, recordAccess). */
  recordedPerSecond: number;
  recordedBytesAllocated: number;
  /** What recording adds to each authorized request: 1 / recorded - 1 / authorized. */
  recordingMicros: number;
}

export interface HotpathResult {
  grants: number;
  roles: number;
  principalRoles: number;
  principalGrants: number;
  cases: HotpathCase[];
}

/** Where a forwarded request goes: what the proxy writes upstream and queues to await its response. */
type Sink = (frame: Buffer, correlationId: number, expectsResponse: boolean) => void;

const TOPICS = benchTopics('orders.events-', 3);
const PARTITIONS = 4;
const BATCH_BYTES = 1024;
/** The proxy's default limits.maxRequestBytes; the bench's frames stay far below it. */
const MAX_REQUEST_BYTES = 100 * 1024 * 1024;
const PRINCIPAL = 'svc-bench';

const CASES: [string, Buffer][] = [
  [`Produce v9, ${TOPICS.length} topics x ${PARTITIONS} partitions, 1 KiB batches`, multiTopicProduceFrame(9, TOPICS, PARTITIONS, BATCH_BYTES)],
  [`Fetch v12 (topic names), ${TOPICS.length} topics x ${PARTITIONS} partitions`, multiTopicFetchFrame(12, TOPICS, PARTITIONS)],
  [`Fetch v13 (topic ids), ${TOPICS.length} topics x ${PARTITIONS} partitions`, multiTopicFetchFrame(13, TOPICS, PARTITIONS)],
];

/** What ClientSession records per chunk read: when it arrived, for the added-latency histogram. */
interface ChunkClock {
  readAtMs: number;
}

/**
 * ClientSession.onRequest for an authenticated session, without the sockets: the header fields
 * read at fixed offsets, the request counted, the offered-version check and a Produce's acks,
 * then the decision (counted) when there is an authorizer, the added latency observed, then the
 * sink.
 */
function requestPath(authorizer: RequestAuthorizer | undefined, sink: Sink, metrics: ListenerMetrics, clock: ChunkClock): (frame: Buffer) => void {
  return (frame) => {
    const apiKey = frame.readInt16BE(4);
    const version = frame.readInt16BE(6);
    const correlationId = frame.readInt32BE(8);
    metrics.requestTaken(apiKey);
    if (!isOfferedVersion(apiKey, version)) throw new Error(`api ${apiKey} v${version} is not offered: the proxy would refuse it`);
    const expectsResponse = apiKey !== API_KEYS.Produce || produceAcks(frame, version) !== 0;
    if (authorizer) {
      const decision = authorizer.decide(frame, apiKey, version);
      if (decision.kind !== 'forward' || decision.frame !== frame) throw new Error(`decided ${decision.kind}, not to forward the request unchanged`);
      if (decision.verdict) metrics.decided(apiKey, decision.verdict, authorizer.access.mode);
    }
    metrics.requestForwarded(apiKey, clock.readAtMs);
    sink(frame, correlationId, expectsResponse);
  };
}

/** One enforce-mode session of the bench principal, its topic ids already learned from Metadata; recording its uses to `recorder` if given. */
function sessionAuthorizer(yaml: string, roles: string[], topics: BenchTopic[], recorder?: AccessRecorder): RequestAuthorizer {
  const silent = createLogger('silent');
  const policy = compilePolicy(parsePolicy(yaml, 'bench-policy.yaml'));
  const requester = { listener: 'bench', principal: PRINCIPAL, roles, clientAddress: '127.0.0.1:50000', clientId: 'bench-client' };
  const access = new SessionAccess('enforce', requester, policy, new DenialLog(silent, undefined));
  access.recordTo(recorder);
  const topicIds = new TopicIds(async () => topics.map((t) => ({ topicId: t.id, name: t.name })), silent);
  for (const t of topics) topicIds.learn(t.id, t.name);
  return new RequestAuthorizer(access, topicIds, DEFAULT_MAX_ENTITIES_PER_REQUEST);
}

/**
 * Requests per second on one core, and heap bytes allocated per request, through the proxy's
 * request path: frame split, header, authorization against a 10,000-grant policy (every topic
 * allowed, so every request is forwarded as it came), hand-off to a no-op sink; and the same
 * without authorization.
 */
export async function runHotpathBench(progress: (line: string) => void): Promise<HotpathResult> {
  progress('hotpath: compiling the policy ...');
  const { yaml, ...policy } = benchPolicy([{ topics: ['orders.*'], operations: ['write', 'read'] }]);
  const authorizer = sessionAuthorizer(yaml, policy.principalRoles, TOPICS);
  const recording = sessionAuthorizer(yaml, policy.principalRoles, TOPICS, new AccessRecorder({ maxIdentities: 10_000, maxEntriesPerIdentity: 100 }));
  let forwardedBytes = 0;
  const sink: Sink = (frame) => {
    forwardedBytes += frame.length;
  };
  const cases: HotpathCase[] = [];
  for (const [name, frame] of CASES) {
    // One frame per chunk, as a client's socket mostly delivers them: the splitter hands out a view.
    const loop = (withAuthorizer: RequestAuthorizer | undefined) => {
      const splitter = new FrameSplitter(MAX_REQUEST_BYTES);
      const metrics = new ListenerMetrics(new ProxyMetrics(), 'bench');
      const clock: ChunkClock = { readAtMs: 0 };
      const path = requestPath(withAuthorizer, sink, metrics, clock);
      return () => {
        clock.readAtMs = performance.now();
        metrics.bytesReceived.n += frame.length;
        splitter.push(frame, path);
      };
    };
    const baseline = loop(undefined);
    const authorized = loop(authorizer);
    const recorded = loop(recording);
    progress(`hotpath: ${name}: split + header ...`);
    const baselineRate = measureRate(baseline).opsPerSecond;
    const baselineBytes = await measureAllocation(baseline);
    progress(`hotpath: ${name}: split + header + authorize ...`);
    const authorizedRate = measureRate(authorized).opsPerSecond;
    const authorizedBytes = await measureAllocation(authorized);
    progress(`hotpath: ${name}: split + header + authorize + record ...`);
    const recordedRate = measureRate(recorded).opsPerSecond;
    const recordedBytes = await measureAllocation(recorded);
    cases.push({
      name,
      frameBytes: frame.length,
      baselinePerSecond: Math.round(baselineRate),
      baselineBytesAllocated: Math.round(baselineBytes),
      authorizedPerSecond: Math.round(authorizedRate),
      authorizedBytesAllocated: Math.round(authorizedBytes),
      authorizationMicros: Math.round((1 / authorizedRate - 1 / baselineRate) * 1e8) / 100,
      recordedPerSecond: Math.round(recordedRate),
      recordedBytesAllocated: Math.round(recordedBytes),
      recordingMicros: Math.round((1 / recordedRate - 1 / authorizedRate) * 1e8) / 100,
    });
  }
  if (forwardedBytes === 0) throw new Error('nothing reached the sink: the benchmark measured nothing');
  return {
    grants: policy.grants,
    roles: policy.roles,
    principalRoles: policy.principalRoles.length,
    principalGrants: policy.principalGrants,
    cases,
  };
}

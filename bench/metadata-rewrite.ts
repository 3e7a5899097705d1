import { DenialLog } from '../src/authz/denial-log.js';
import { compilePolicy } from '../src/authz/compiled-policy.js';
import { parsePolicy } from '../src/authz/policy-file.js';
import { SessionAccess } from '../src/authz/session-access.js';
import { DEFAULT_MAX_ENTITIES_PER_REQUEST, type ListenerConfig } from '../src/config/schema.js';
import { createLogger } from '../src/observe/logger.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { RESPONSE_CODECS } from '../src/protocol/generated/index.js';
import { defaultMetadataRequest } from '../src/protocol/generated/messages/MetadataRequest.js';
import { type MetadataResponse, defaultMetadataResponse, defaultMetadataResponseBroker, defaultMetadataResponsePartition, defaultMetadataResponseTopic } from '../src/protocol/generated/messages/MetadataResponse.js';
import { writeResponseHeader } from '../src/protocol/headers.js';
import { requestFrame } from '../src/protocol/request-frame.js';
import { Writer } from '../src/protocol/writer.js';
import { ListenerAddressing } from '../src/proxy/addressing.js';
import { ClusterView } from '../src/proxy/cluster-view.js';
import { RequestAuthorizer } from '../src/proxy/request-authorizer.js';
import { ResponseRewriter } from '../src/proxy/response-rewriter.js';
import { TopicIds } from '../src/proxy/topic-ids.js';

/** One cluster shape: its Metadata response and what the proxy takes to pass it on. */
export interface MetadataRewriteResult {
  topics: number;
  partitionsPerTopic: number;
  responseBytes: number;
  /** Transparent listener: broker addresses rewritten. */
  transparentMs: number;
  /** Enforcing listener: topic ids learned and the topics the principal may not describe filtered out (half of them). */
  enforcingMs: number;
}

const VERSION = 12;
const BROKERS = 6;
const silent = createLogger('silent');

/** A Kafka topic id (16 bytes, base64url) made from `n`. */
function topicId(n: number): string {
  const bytes = Buffer.alloc(16, 0x5a);
  bytes.writeUInt32BE(n, 12);
  return bytes.toString('base64url');
}

/** A broker's Metadata v12 answer for `topics` x `partitions`, three replicas each, as a framed response. */
function brokerResponse(topics: number, partitions: number): Buffer {
  const body: MetadataResponse = {
    ...defaultMetadataResponse(),
    brokers: Array.from({ length: BROKERS }, (_, nodeId) => ({ ...defaultMetadataResponseBroker(), nodeId, host: `b-${nodeId}.kafka.internal.example.com`, port: 9092, rack: `rack-${nodeId % 3}` })),
    clusterId: 'bench-cluster-0000000000',
    controllerId: 0,
    topics: Array.from({ length: topics }, (_, t) => ({
      ...defaultMetadataResponseTopic(),
      name: `${t % 2 === 0 ? 'team-a' : 'team-b'}.events.partitioned-stream-${String(t).padStart(5, '0')}`,
      topicId: topicId(t),
      partitions: Array.from({ length: partitions }, (_, p) => {
        const replicas = [p % BROKERS, (p + 1) % BROKERS, (p + 2) % BROKERS];
        return { ...defaultMetadataResponsePartition(), partitionIndex: p, leaderId: replicas[0], leaderEpoch: 7, replicaNodes: replicas, isrNodes: replicas };
      }),
    })),
  };
  const w = new Writer(1 << 20);
  w.int32(0);
  writeResponseHeader(w, API_KEYS.Metadata, VERSION, { correlationId: 1, taggedFields: undefined });
  RESPONSE_CODECS[API_KEYS.Metadata].write(w, body, VERSION);
  const frame = Buffer.concat(w.finish());
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

const LISTENER = { name: 'bench', bind: '127.0.0.1', port: 9092, advertisedHost: 'kafka-proxy.example.com', brokerPorts: { base: 9100 }, authentication: 'none', mode: 'enforce' } as unknown as ListenerConfig;

function timeEach(runs: number, work: () => void): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * The proxy's work on one Metadata response of a large cluster, in process: decode, rewrite and
 * encode, as a worker does it between two reads of its event loop (so the time is also how long
 * every other connection of that worker waits). Median of `runs`.
 */
export async function runMetadataRewriteBench(shapes: [number, number][], runs: number, progress: (line: string) => void): Promise<MetadataRewriteResult[]> {
  const results: MetadataRewriteResult[] = [];
  for (const [topics, partitions] of shapes) {
    progress(`metadata: ${topics} topics x ${partitions} partitions ...`);
    const frame = brokerResponse(topics, partitions);
    const transparent = new ResponseRewriter(new ListenerAddressing(LISTENER), new ClusterView(), silent);
    const transparentMs = timeEach(runs, () => transparent.rewrite(frame, API_KEYS.Metadata, VERSION));
    // An enforcing session that may describe team-a's topics only: the request names none (all topics).
    const policy = compilePolicy(parsePolicy('roles:\n  team-a:\n    - { topics: ["team-a.*"], operations: [describe] }\nbindings: {}\n', 'bench'));
    const access = new SessionAccess('enforce', { principal: 'team-a-app', roles: ['team-a'], listener: 'bench' } as never, policy, new DenialLog(silent, undefined));
    const topicIds = new TopicIds(async () => [], silent);
    const authorizer = new RequestAuthorizer(access, topicIds, DEFAULT_MAX_ENTITIES_PER_REQUEST);
    const request = requestFrame(API_KEYS.Metadata, VERSION, 1, 'bench', { ...defaultMetadataRequest(), topics: null });
    const enforcing = new ResponseRewriter(new ListenerAddressing(LISTENER), new ClusterView(), silent, topicIds);
    // A session's first look at every topic waits for the topic ids; later ones decide at once.
    let first = authorizer.decide(request, API_KEYS.Metadata, VERSION);
    while (first.kind === 'wait') {
      await first.ready;
      first = authorizer.decide(request, API_KEYS.Metadata, VERSION);
    }
    const enforcingMs = timeEach(runs, () => {
      const decision = authorizer.decide(request, API_KEYS.Metadata, VERSION);
      if (decision.kind !== 'forward') throw new Error(`decided ${decision.kind}: the bench meant a forwarded Metadata request`);
      const out = enforcing.rewrite(frame, API_KEYS.Metadata, VERSION, decision.edit);
      if (out.length === 0) throw new Error('no response');
    });
    results.push({ topics, partitionsPerTopic: partitions, responseBytes: frame.length, transparentMs, enforcingMs });
  }
  return results;
}

import type { Logger } from 'pino';
import { ProtocolError } from '../protocol/errors.js';
import { API_KEYS } from '../protocol/generated/apis.js';
import { RESPONSE_CODECS } from '../protocol/generated/index.js';
import type { ApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import type { DescribeClusterResponse } from '../protocol/generated/messages/DescribeClusterResponse.js';
import type { FindCoordinatorResponse } from '../protocol/generated/messages/FindCoordinatorResponse.js';
import type { MetadataResponse } from '../protocol/generated/messages/MetadataResponse.js';
import type { ProduceResponse } from '../protocol/generated/messages/ProduceResponse.js';
import { type ResponseHeader, readResponseHeader, writeResponseHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import type { ListenerAddressing } from './addressing.js';
import { readMetadataResponseLazily, writeMetadataResponseLazily } from './metadata-lazy.js';
import { produceResponseHasNodeEndpoints } from './produce-node-endpoints.js';
import { readMetadataPrefix, writeMetadataPrefix } from './metadata-prefix.js';
import type { ClusterView } from './cluster-view.js';
import { capApiVersions } from './client-apis.js';
import type { ResponseEdit } from './request-authorizer.js';
import type { TopicIds } from './topic-ids.js';

const COORDINATOR_NOT_AVAILABLE = 15;
/** Produce responses carry broker addresses (NodeEndpoints, KIP-951) from this version on. */
const PRODUCE_NODE_ENDPOINTS_FROM = 10;

interface Endpoint {
  nodeId: number;
  host: string;
  port: number;
}

/**
 * Rewrites the responses that name brokers so that clients only ever see the proxy's own
 * addresses (Metadata, FindCoordinator, DescribeCluster, Produce NodeEndpoints), caps
 * ApiVersions to what the proxy decodes, and learns real broker addresses on the way.
 */
export class ResponseRewriter {
  private readonly reportedUnmapped = new Set<number>();

  constructor(
    private readonly addressing: ListenerAddressing,
    private readonly cluster: ClusterView,
    private readonly log: Logger,
    /** Where requests are authorized: topic ids learned from the responses passing through. */
    private readonly topicIds?: TopicIds,
  ) {}

  private learnTopicIds(apiKey: number, body: unknown): void {
    if (!this.topicIds) return;
    if (apiKey === API_KEYS.Metadata || apiKey === API_KEYS.CreateTopics || apiKey === API_KEYS.DescribeTopicPartitions) {
      for (const t of (body as { topics: { topicId: string; name: string | null; errorCode: number }[] }).topics) {
        if (t.errorCode === 0) this.topicIds.learn(t.topicId, t.name);
      }
    }
  }

  needsRewrite(apiKey: number, version: number): boolean {
    switch (apiKey) {
      case API_KEYS.Metadata:
      case API_KEYS.FindCoordinator:
      case API_KEYS.DescribeCluster:
      case API_KEYS.ApiVersions:
        return true;
      case API_KEYS.CreateTopics:
      case API_KEYS.DescribeTopicPartitions:
        // Only to learn topic ids, where requests by id are authorized.
        return this.topicIds !== undefined;
      case API_KEYS.Produce:
        return version >= PRODUCE_NODE_ENDPOINTS_FROM;
      default:
        return false;
    }
  }

  /**
   * The rewritten response frame (with size prefix) as chunks; `edit` is authorization's change to
   * the body. `brokerVersion` is the version the broker was asked at, when the proxy asked at
   * another than the client's: the answer is read at it and written at the client's `version`.
   */
  rewrite(frame: Buffer, apiKey: number, version: number, edit?: ResponseEdit, brokerVersion = version): Buffer[] {
    const r = new Reader(frame, 4);
    if (apiKey === API_KEYS.ApiVersions) return this.rewriteApiVersions(frame, version);
    if (apiKey === API_KEYS.Metadata && !this.topicIds && !edit && brokerVersion === version) return this.rewriteMetadataBrokers(frame, version);
    const header = readResponseHeader(r, apiKey, brokerVersion);
    if (apiKey === API_KEYS.Produce && !edit && brokerVersion === version) {
      // Brokers add NodeEndpoints only on a leader change; otherwise the bytes go out as they came.
      const body = r.pos;
      if (!produceResponseHasNodeEndpoints(r)) return [frame];
      r.pos = body;
    }
    // Authorization reads and changes a Metadata answer's topics, never their partitions.
    const lazily = apiKey === API_KEYS.Metadata && brokerVersion === version;
    const body = lazily ? readMetadataResponseLazily(r, version) : RESPONSE_CODECS[apiKey].read(r, brokerVersion);
    this.learnTopicIds(apiKey, body);
    edit?.(body as never);
    switch (apiKey) {
      case API_KEYS.Metadata: {
        const m = body as MetadataResponse;
        m.brokers = this.rewriteBrokerList(m.brokers, (b) => b.nodeId);
        break;
      }
      case API_KEYS.DescribeCluster: {
        const m = body as DescribeClusterResponse;
        m.brokers = this.rewriteBrokerList(m.brokers, (b) => b.brokerId);
        break;
      }
      case API_KEYS.FindCoordinator:
        this.rewriteCoordinators(body as FindCoordinatorResponse, version);
        break;
      case API_KEYS.Produce: {
        const m = body as ProduceResponse;
        m.nodeEndpoints = this.rewriteBrokerList(m.nodeEndpoints, (b) => b.nodeId);
        break;
      }
    }
    return encode(apiKey, version, header, body, lazily ? writeMetadataResponseLazily : RESPONSE_CODECS[apiKey].write);
  }

  /**
   * Where nothing reads the topics (no authorization, no topic ids to learn), only the brokers at
   * the front of a Metadata answer are rewritten and its topics go out as the broker sent them:
   * on a large cluster those are megabytes that would otherwise hold the event loop while they
   * are decoded and encoded again, to the same bytes.
   */
  private rewriteMetadataBrokers(frame: Buffer, version: number): Buffer[] {
    const r = new Reader(frame, 4);
    const header = readResponseHeader(r, API_KEYS.Metadata, version);
    const prefix = readMetadataPrefix(r, version);
    prefix.brokers = this.rewriteBrokerList(prefix.brokers, (b) => b.nodeId);
    const w = new Writer(512);
    w.int32(0);
    writeResponseHeader(w, API_KEYS.Metadata, version, header);
    writeMetadataPrefix(w, prefix, version);
    const head = w.finish();
    const topics = frame.subarray(r.pos);
    head[0].writeInt32BE(head.reduce((n, c) => n + c.length, 0) - 4 + topics.length, 0);
    return [...head, topics];
  }

  /**
   * A broker answers an ApiVersions request at a version it does not know with a v0 body, so a
   * body that does not decode at the request's version is read again as v0, as clients do.
   */
  private rewriteApiVersions(frame: Buffer, version: number): Buffer[] {
    const header = readResponseHeader(new Reader(frame, 4), API_KEYS.ApiVersions, version);
    let bodyVersion = version;
    let body: ApiVersionsResponse;
    try {
      const r = new Reader(frame, 8);
      body = RESPONSE_CODECS[API_KEYS.ApiVersions].read(r, version) as ApiVersionsResponse;
      if (r.remaining !== 0) throw new ProtocolError('trailing-bytes', 'ApiVersions response longer than its version');
    } catch (e) {
      if (!(e instanceof ProtocolError) || version === 0) throw e;
      bodyVersion = 0;
      body = RESPONSE_CODECS[API_KEYS.ApiVersions].read(new Reader(frame, 8), 0) as ApiVersionsResponse;
    }
    body.apiKeys = capApiVersions(body.apiKeys);
    return encode(API_KEYS.ApiVersions, bodyVersion, header, body);
  }

  /** Swaps real addresses for proxy ones; a node the proxy has no port for is left out. */
  private rewriteBrokerList<T extends { host: string; port: number }>(list: T[], idOf: (b: T) => number): T[] {
    this.cluster.update(list.map((b) => ({ nodeId: idOf(b), host: b.host, port: b.port })));
    const kept: T[] = [];
    for (const b of list) {
      const proxied = this.proxied(idOf(b));
      if (proxied) kept.push({ ...b, ...proxied });
    }
    return kept;
  }

  private rewriteCoordinators(body: FindCoordinatorResponse, version: number): void {
    if (version >= 4) {
      for (const c of body.coordinators) this.rewriteCoordinator(c);
    } else {
      this.rewriteCoordinator(body);
    }
  }

  private rewriteCoordinator(c: Endpoint & { errorCode: number }): void {
    if (c.errorCode !== 0 || c.nodeId < 0) return;
    this.cluster.update([c]);
    const proxied = this.proxied(c.nodeId);
    if (proxied) {
      c.host = proxied.host;
      c.port = proxied.port;
    } else {
      // The client retries FindCoordinator, as it does while a coordinator moves.
      Object.assign(c, { errorCode: COORDINATOR_NOT_AVAILABLE, nodeId: -1, host: '', port: -1 });
    }
  }

  private proxied(nodeId: number): { host: string; port: number } | undefined {
    const address = this.addressing.addressFor(nodeId);
    if (address) return address;
    if (!this.reportedUnmapped.has(nodeId)) {
      this.reportedUnmapped.add(nodeId);
      this.log.error(
        { nodeId, brokerPorts: this.addressing.describe() },
        'broker node has no proxy port: it is hidden from clients; add it to brokerPorts.map',
      );
    }
    return undefined;
  }
}

function encode(apiKey: number, version: number, header: ResponseHeader, body: unknown, write: (w: Writer, body: never, version: number) => void = RESPONSE_CODECS[apiKey].write): Buffer[] {
  const w = new Writer(512);
  w.int32(0);
  writeResponseHeader(w, apiKey, version, header);
  write(w, body as never, version);
  const size = w.length - 4;
  const chunks = w.finish();
  chunks[0].writeInt32BE(size, 0);
  return chunks;
}

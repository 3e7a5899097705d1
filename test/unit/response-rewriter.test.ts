import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { defaultMetadataResponse, defaultMetadataResponseBroker, type MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultProduceResponse, type ProduceResponse } from '../../src/protocol/generated/messages/ProduceResponse.js';
import { defaultFindCoordinatorResponse, type FindCoordinatorResponse } from '../../src/protocol/generated/messages/FindCoordinatorResponse.js';
import { readResponseHeader, writeResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { ListenerAddressing } from '../../src/proxy/addressing.js';
import { ClusterView } from '../../src/proxy/cluster-view.js';
import { ResponseRewriter } from '../../src/proxy/response-rewriter.js';
import { TopicIds } from '../../src/proxy/topic-ids.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { randomMessage } from '../support/random-message.js';
import { Rng } from '../support/rng.js';

function listener(brokerPorts: object) {
  return configSchema.parse({
    upstream: { bootstrapServers: ['b:1'] },
    listeners: [{ name: 'l', port: 19092, advertisedHost: 'proxy.example', brokerPorts, authentication: 'none' }],
  }).listeners[0];
}

function frame(apiKey: number, version: number, body: unknown): Buffer {
  const w = new Writer();
  w.int32(0);
  writeResponseHeader(w, apiKey, version, { correlationId: 77, taggedFields: undefined });
  RESPONSE_CODECS[apiKey].write(w, body, version);
  const f = w.toBuffer();
  f.writeInt32BE(f.length - 4, 0);
  return f;
}

function decode<T>(chunks: Buffer[], apiKey: number, version: number): T {
  const f = Buffer.concat(chunks);
  expect(f.readInt32BE(0)).toBe(f.length - 4);
  const r = new Reader(f, 4);
  expect(readResponseHeader(r, apiKey, version).correlationId).toBe(77);
  const body = RESPONSE_CODECS[apiKey].read(r, version) as T;
  expect(r.remaining).toBe(0);
  return body;
}

const logs: string[] = [];
const log = pino({ level: 'error' }, { write: (s: string) => void logs.push(s) });

describe('ResponseRewriter', () => {
  it('replaces every broker address in Metadata with the proxy address and learns the real ones', () => {
    const cluster = new ClusterView();
    const rw = new ResponseRewriter(new ListenerAddressing(listener({ base: 20000 })), cluster, log);
    const md = defaultMetadataResponse();
    md.brokers = [1, 2].map((nodeId) => ({ ...defaultMetadataResponseBroker(), nodeId, host: `10.0.0.${nodeId}`, port: 9092 }));
    const out = decode<MetadataResponse>(rw.rewrite(frame(API_KEYS.Metadata, 12, md), API_KEYS.Metadata, 12), API_KEYS.Metadata, 12);
    expect(out.brokers.map((b) => `${b.nodeId}=${b.host}:${b.port}`)).toEqual(['1=proxy.example:20001', '2=proxy.example:20002']);
    expect(cluster.get(2)).toEqual({ host: '10.0.0.2', port: 9092 });
  });

  it('passes the topics of a Metadata answer through untouched where nothing reads them, to the bytes a full rewrite would give, at every version', () => {
    const schema = MESSAGE_SCHEMAS.find((m) => m.apiKey === API_KEYS.Metadata && m.type === 'response')!;
    const rng = new Rng(2026);
    for (let version = 0; version <= 12; version++) {
      for (let i = 0; i < 20; i++) {
        const md = randomMessage(schema, version, rng) as unknown as MetadataResponse;
        // Node ids the listener serves (base + id), some the map leaves out.
        md.brokers.forEach((b, j) => (b.nodeId = j % 4));
        const original = frame(API_KEYS.Metadata, version, md);
        const addressing = new ListenerAddressing(listener({ map: { '0': 21000, '1': 21001, '2': 21002 } }));
        const transparent = new ResponseRewriter(addressing, new ClusterView(), log);
        // A rewriter that learns topic ids decodes and encodes the whole answer.
        const full = new ResponseRewriter(addressing, new ClusterView(), log, new TopicIds(async () => [], log));
        const passed = transparent.rewrite(original, API_KEYS.Metadata, version);
        expect(Buffer.concat(passed).equals(Buffer.concat(full.rewrite(original, API_KEYS.Metadata, version))), `v${version} sample ${i}`).toBe(true);
        // The topics are the broker's own bytes, not a copy.
        expect(passed[passed.length - 1].buffer, `v${version}`).toBe(original.buffer);
      }
    }
  });

  it('turns a Metadata answer the broker gave at v4 into the client’s v0, addresses rewritten', () => {
    const rw = new ResponseRewriter(new ListenerAddressing(listener({ base: 20000 })), new ClusterView(), log);
    const md = defaultMetadataResponse();
    md.brokers = [{ ...defaultMetadataResponseBroker(), nodeId: 1, host: '10.0.0.1', port: 9092, rack: 'r1' }];
    md.clusterId = 'c-1';
    const out = decode<MetadataResponse>(rw.rewrite(frame(API_KEYS.Metadata, 4, md), API_KEYS.Metadata, 0, undefined, 4), API_KEYS.Metadata, 0);
    expect(out.brokers.map((b) => `${b.nodeId}=${b.host}:${b.port}`)).toEqual(['1=proxy.example:20001']);
  });

  it('hides a broker the listener has no port for, and says so once', () => {
    logs.length = 0;
    const rw = new ResponseRewriter(new ListenerAddressing(listener({ map: { '1': 21001 } })), new ClusterView(), log);
    const md = defaultMetadataResponse();
    md.brokers = [1, 2].map((nodeId) => ({ ...defaultMetadataResponseBroker(), nodeId, host: 'real', port: 9092 }));
    for (let i = 0; i < 2; i++) {
      const out = decode<MetadataResponse>(rw.rewrite(frame(API_KEYS.Metadata, 9, md), API_KEYS.Metadata, 9), API_KEYS.Metadata, 9);
      expect(out.brokers.map((b) => b.port)).toEqual([21001]);
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('"nodeId":2');
  });

  it('rewrites the NodeEndpoints a Produce v10+ response carries on a leader change', () => {
    const rw = new ResponseRewriter(new ListenerAddressing(listener({ base: 20000 })), new ClusterView(), log);
    const pr = defaultProduceResponse();
    pr.nodeEndpoints = [{ nodeId: 3, host: 'b-3.internal', port: 9092, rack: null, _unknownTaggedFields: undefined }];
    expect(rw.needsRewrite(API_KEYS.Produce, 9)).toBe(false);
    expect(rw.needsRewrite(API_KEYS.Produce, 11)).toBe(true);
    const out = decode<ProduceResponse>(rw.rewrite(frame(API_KEYS.Produce, 11, pr), API_KEYS.Produce, 11), API_KEYS.Produce, 11);
    expect(out.nodeEndpoints).toEqual([expect.objectContaining({ nodeId: 3, host: 'proxy.example', port: 20003 })]);
  });

  it('passes a Produce response without NodeEndpoints on unchanged', () => {
    const rw = new ResponseRewriter(new ListenerAddressing(listener({ base: 20000 })), new ClusterView(), log);
    const f = frame(API_KEYS.Produce, 11, defaultProduceResponse());
    const out = rw.rewrite(f, API_KEYS.Produce, 11);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(f);
  });

  it('turns a coordinator without a proxy port into COORDINATOR_NOT_AVAILABLE rather than leak it', () => {
    const rw = new ResponseRewriter(new ListenerAddressing(listener({ map: { '1': 21001 } })), new ClusterView(), log);
    const fc = { ...defaultFindCoordinatorResponse(), nodeId: 5, host: 'b-5.internal', port: 9092 };
    const out = decode<FindCoordinatorResponse>(rw.rewrite(frame(API_KEYS.FindCoordinator, 2, fc), API_KEYS.FindCoordinator, 2), API_KEYS.FindCoordinator, 2);
    expect(out).toMatchObject({ errorCode: 15, nodeId: -1, host: '', port: -1 });
  });
});

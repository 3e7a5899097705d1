import { describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import {
  type FetchResponse,
  defaultFetchResponse,
  defaultFetchResponseFetchableTopicResponse,
  defaultFetchResponsePartitionData,
  readFetchResponse,
} from '../../src/protocol/generated/messages/FetchResponse.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { CLIENT_API_RANGES } from '../../src/proxy/client-apis.js';
import { fetchDenialsSplice } from '../../src/proxy/fetch-denials-splice.js';
import { MemoryBudget } from '../../src/proxy/memory-budget.js';
import { responseFrame } from '../../src/proxy/local-response.js';
import { ResponsePipeline } from '../../src/proxy/response-pipeline.js';
import { recordBatch } from '../support/record-batch.js';

const ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

function topic(name: string, partition: number, errorCode: number, records: Buffer | null): FetchResponse['responses'][number] {
  return {
    ...defaultFetchResponseFetchableTopicResponse(),
    topic: name,
    topicId: ID,
    partitions: [{ ...defaultFetchResponsePartitionData(), partitionIndex: partition, errorCode, highWatermark: errorCode ? -1n : 42n, records }],
  };
}

/** Runs a broker response through a pipeline with the splice, cut into chunks of `cut` bytes. */
function spliced(frame: Buffer, version: number, denied: FetchResponse['responses'], cut: number, budget = new MemoryBudget(1 << 20)): Buffer {
  const out: Buffer[] = [];
  const pipeline = new ResponsePipeline((b) => out.push(Buffer.from(b)), () => [], budget.share(() => {}));
  pipeline.expect(frame.readInt32BE(4), { kind: 'splice', apiKey: API_KEYS.Fetch, splice: fetchDenialsSplice(version, denied) });
  for (let i = 0; i < frame.length; i += cut) pipeline.push(frame.subarray(i, i + cut));
  return Buffer.concat(out);
}

function decode(frame: Buffer, version: number): FetchResponse {
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const r = new Reader(frame, 4);
  readResponseHeader(r, API_KEYS.Fetch, version);
  const body = readFetchResponse(r, version);
  expect(r.remaining).toBe(0);
  return body;
}

describe('Fetch denials spliced into a streamed response', () => {
  const range = CLIENT_API_RANGES[API_KEYS.Fetch]!;
  const versions = Array.from({ length: range.maxVersion - range.minVersion + 1 }, (_, i) => range.minVersion + i);
  const denied = [topic('secret', 0, 29, null), topic('hidden', 3, 29, null)];

  it('puts the denied topics in front of the broker topics at every offered version, the records untouched, however the bytes are cut', () => {
    const records = recordBatch(Array.from({ length: 50 }, (_, i) => `value-${i}`));
    for (const version of versions) {
      const broker = { ...defaultFetchResponse(), throttleTimeMs: 7, responses: [topic('orders', 1, 0, records), topic('payments', 2, 0, records)] };
      const frame = responseFrame(API_KEYS.Fetch, version, 99, broker);
      for (const cut of [1, 2, 3, 7, 13, 64, frame.length]) {
        const body = decode(spliced(frame, version, denied, cut), version);
        const names = version >= 13 ? body.responses.map((t) => t.partitions[0].partitionIndex) : body.responses.map((t) => t.topic);
        expect(names, `v${version} cut ${cut}`).toEqual(version >= 13 ? [0, 3, 1, 2] : ['secret', 'hidden', 'orders', 'payments']);
        expect(body.responses.map((t) => t.partitions[0].errorCode)).toEqual([29, 29, 0, 0]);
        expect(body.responses[2].partitions[0].records!.equals(records)).toBe(true);
        if (version >= 1) expect(body.throttleTimeMs).toBe(7);
      }
    }
  });

  it('passes a response with a top-level error unchanged (it names no topics)', () => {
    for (const version of versions.filter((v) => v >= 7)) {
      const frame = responseFrame(API_KEYS.Fetch, version, 5, { ...defaultFetchResponse(), errorCode: 70 });
      expect(spliced(frame, version, denied, 3).equals(frame)).toBe(true);
    }
  });

  it('holds only the head of a large fetch: nothing is left of the budget in use while its records stream', () => {
    const version = range.maxVersion;
    const big = Buffer.alloc(8 << 20, 1);
    const frame = responseFrame(API_KEYS.Fetch, version, 1, { ...defaultFetchResponse(), responses: [topic('orders', 0, 0, big)] });
    const budget = new MemoryBudget(64 * 1024);
    const body = decode(spliced(frame, version, denied, 65536, budget), version);
    expect(body.responses).toHaveLength(3);
    expect(budget.heldBytes).toBe(0);
  });
});

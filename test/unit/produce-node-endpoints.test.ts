import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ProduceResponse,
  defaultProduceResponse,
  defaultProduceResponseLeaderIdAndEpoch,
  defaultProduceResponsePartitionProduceResponse,
  writeProduceResponse,
} from '../../src/protocol/generated/messages/ProduceResponse.js';
import { Reader } from '../../src/protocol/reader.js';
import type { TaggedField } from '../../src/protocol/tagged-fields.js';
import { Writer } from '../../src/protocol/writer.js';
import { produceResponseHasNodeEndpoints } from '../../src/proxy/produce-node-endpoints.js';

/** Tagged fields the spec does not know at this level (tags the generated writer would not write itself). */
const unknownTags = (from: number) =>
  fc.option(fc.uniqueArray(fc.record({ tag: fc.integer({ min: from, max: 300 }), data: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)) }), { selector: (t) => t.tag, maxLength: 3 }), { nil: undefined }).map(
    (fields) => fields?.sort((a, b) => a.tag - b.tag) as TaggedField[] | undefined,
  );
const text = fc.string({ maxLength: 30 });

const partition = fc.record({
  index: fc.integer({ min: 0, max: 10_000 }),
  errorCode: fc.integer({ min: -1, max: 120 }),
  baseOffset: fc.bigInt({ min: -1n, max: 1n << 40n }),
  logAppendTimeMs: fc.bigInt({ min: -1n, max: 1n << 42n }),
  logStartOffset: fc.bigInt({ min: -1n, max: 1n << 40n }),
  recordErrors: fc.array(fc.record({ batchIndex: fc.integer({ min: 0, max: 100 }), batchIndexErrorMessage: fc.option(text, { nil: null }), _unknownTaggedFields: unknownTags(0) }), { maxLength: 3 }),
  errorMessage: fc.option(text, { nil: null }),
  // Tag 0 of a partition (CurrentLeader) must not be taken for the response's NodeEndpoints.
  currentLeader: fc.oneof(fc.constant(defaultProduceResponseLeaderIdAndEpoch()), fc.record({ leaderId: fc.integer({ min: 0, max: 9 }), leaderEpoch: fc.integer({ min: 0, max: 99 }) })),
  _unknownTaggedFields: unknownTags(1),
});

const response: fc.Arbitrary<ProduceResponse> = fc.record({
  responses: fc.array(fc.record({ name: text, partitionResponses: fc.array(partition.map((p) => ({ ...defaultProduceResponsePartitionProduceResponse(), ...p })), { maxLength: 4 }), _unknownTaggedFields: unknownTags(0) }), {
    maxLength: 4,
  }),
  throttleTimeMs: fc.integer({ min: 0, max: 60_000 }),
  nodeEndpoints: fc.array(fc.record({ nodeId: fc.integer({ min: 0, max: 9 }), host: text, port: fc.integer({ min: 1, max: 65_535 }), rack: fc.option(text, { nil: null }) }), { maxLength: 3 }),
  _unknownTaggedFields: unknownTags(1),
});

function bytes(message: ProduceResponse, version: number): Buffer {
  const w = new Writer();
  writeProduceResponse(w, message, version);
  return Buffer.concat(w.finish());
}

describe('NodeEndpoints found in a Produce response without decoding it', () => {
  it('agrees with a full decode at v10 and v11, whatever the topics, partitions, record errors and tagged fields hold', () => {
    fc.assert(
      fc.property(response, fc.constantFrom(10, 11), (message, version) => {
        expect(produceResponseHasNodeEndpoints(new Reader(bytes(message, version)))).toBe(message.nodeEndpoints.length > 0);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a response cut short rather than answer for bytes it has not seen', () => {
    const message = { ...defaultProduceResponse(), responses: [{ name: 'orders', partitionResponses: [defaultProduceResponsePartitionProduceResponse()] }] };
    const whole = bytes(message, 11);
    for (let cut = 0; cut < whole.length; cut++) expect(() => produceResponseHasNodeEndpoints(new Reader(whole.subarray(0, cut)))).toThrow();
  });
});

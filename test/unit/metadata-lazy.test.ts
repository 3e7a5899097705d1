import { describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { readMetadataResponseLazily, writeMetadataResponseLazily } from '../../src/proxy/metadata-lazy.js';
import { randomMessage } from '../support/random-message.js';
import { Rng } from '../support/rng.js';

const schema = MESSAGE_SCHEMAS.find((m) => m.apiKey === API_KEYS.Metadata && m.type === 'response')!;
const codec = RESPONSE_CODECS[API_KEYS.Metadata];

function bytesOf(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  write(w);
  return w.toBuffer();
}

/** What authorization does to an answer: drop topics, hide one's partitions, set authorized operations. */
function edit(m: MetadataResponse, rng: Rng): void {
  m.topics = m.topics.filter(() => rng.next() < 0.6);
  for (const t of m.topics) {
    if (rng.next() < 0.3) t.partitions = [];
    if (rng.next() < 0.5) t.topicAuthorizedOperations = rng.int(0, 4096);
    if (rng.next() < 0.2) t.errorCode = 29;
  }
  m.topics.push({ errorCode: 29, name: 'added-by-the-proxy', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648, _unknownTaggedFields: undefined });
}

// Enforcing listeners read a Metadata answer with its partitions left as the broker's bytes: the
// result must be exactly what decoding and encoding everything would give, edits included.
describe('Metadata answers read lazily', () => {
  it('write back the same bytes, at every version', () => {
    const rng = new Rng(91);
    for (let version = 0; version <= 12; version++) {
      for (let i = 0; i < 25; i++) {
        const original = bytesOf((w) => codec.write(w, randomMessage(schema, version, rng), version));
        const r = new Reader(original);
        const lazy = readMetadataResponseLazily(r, version);
        expect(r.remaining, `v${version}`).toBe(0);
        expect(bytesOf((w) => writeMetadataResponseLazily(w, lazy, version)).equals(original), `v${version} sample ${i}`).toBe(true);
      }
    }
  });

  it('give the bytes a full decode and encode gives after the same edits, at every version', () => {
    for (let version = 0; version <= 12; version++) {
      for (let i = 0; i < 25; i++) {
        const message = randomMessage(schema, version, new Rng(version * 100 + i));
        const original = bytesOf((w) => codec.write(w, message, version));
        const full = codec.read(new Reader(original), version) as MetadataResponse;
        edit(full, new Rng(i));
        const lazy = readMetadataResponseLazily(new Reader(original), version);
        edit(lazy, new Rng(i));
        if (version < 12) for (const t of [...full.topics, ...lazy.topics]) t.name ??= 'unnamed';
        const expected = bytesOf((w) => codec.write(w, full, version));
        expect(bytesOf((w) => writeMetadataResponseLazily(w, lazy, version)).equals(expected), `v${version} sample ${i}`).toBe(true);
      }
    }
  });

  it('never writes the broker\'s partitions for a topic whose partitions were replaced', () => {
    const message = randomMessage(schema, 12, new Rng(7)) as unknown as MetadataResponse;
    message.topics = [{ ...message.topics[0], partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [], _unknownTaggedFields: undefined }] }];
    const lazy = readMetadataResponseLazily(new Reader(bytesOf((w) => codec.write(w, message, 12))), 12);
    // A copy of the topic keeps the same array, and with it the broker's bytes...
    const copy = { ...lazy.topics[0] };
    expect((codec.read(new Reader(bytesOf((w) => writeMetadataResponseLazily(w, { ...lazy, topics: [copy] }, 12))), 12) as MetadataResponse).topics[0].partitions).toHaveLength(1);
    // ...a new array does not.
    lazy.topics[0].partitions = [];
    expect((codec.read(new Reader(bytesOf((w) => writeMetadataResponseLazily(w, lazy, 12))), 12) as MetadataResponse).topics[0].partitions).toEqual([]);
  });

  it('refuses to have partitions added to the bytes it stands for', () => {
    const message = randomMessage(schema, 9, new Rng(8)) as unknown as MetadataResponse;
    message.topics = [message.topics[0] ?? { errorCode: 0, name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', isInternal: false, partitions: [], topicAuthorizedOperations: 0, _unknownTaggedFields: undefined }];
    const lazy = readMetadataResponseLazily(new Reader(bytesOf((w) => codec.write(w, message, 9))), 9);
    expect(() => lazy.topics[0].partitions.push(lazy.topics[0].partitions[0])).toThrow(TypeError);
  });

  it('says where a truncated answer ends', () => {
    const message = randomMessage(schema, 12, new Rng(9)) as unknown as MetadataResponse;
    const bytes = bytesOf((w) => codec.write(w, message, 12));
    expect(() => readMetadataResponseLazily(new Reader(bytes.subarray(0, bytes.length - 3)), 12)).toThrow(/need \d+ bytes/);
  });
});

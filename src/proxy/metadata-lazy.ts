import { ZERO_UUID, nonNull, writeTaggedFields } from '../protocol/codec-support.js';
import { ProtocolError } from '../protocol/errors.js';
import {
  type MetadataResponse,
  type MetadataResponsePartition,
  type MetadataResponseTopic,
  writeMetadataResponsePartition,
} from '../protocol/generated/messages/MetadataResponse.js';
import type { Reader } from '../protocol/reader.js';
import type { TaggedField } from '../protocol/tagged-fields.js';
import type { Writer } from '../protocol/writer.js';
import { readMetadataPrefix, writeMetadataPrefix } from './metadata-prefix.js';

/**
 * A Metadata answer whose partitions stay the broker's bytes: what an authorizing listener needs
 * to filter topics, learn topic ids and set authorized operations, without decoding and encoding
 * again the partitions that make up most of a large cluster's answer. Each topic read here gets a
 * frozen empty `partitions` array standing for the bytes it skipped; the writer copies those
 * bytes only while the topic still holds that same array, so a topic whose partitions were
 * replaced (or a topic built by the proxy) is written from its own array. A topic whose fields
 * all still hold what was read is written as its original bytes, whole.
 * Field order and encodings as in Kafka's MetadataResponse.json (v0-v12).
 */
const SKIPPED = Symbol('partitions as read');
type SkippedPartitions = MetadataResponsePartition[] & { [SKIPPED]?: Buffer };

/** A topic as read: its bytes, and the fields they encode, so a topic nothing changed is written as those bytes. */
interface ReadTopic {
  bytes: Buffer;
  partitions: readonly MetadataResponsePartition[];
  errorCode: number;
  name: string | null;
  topicId: string;
  isInternal: boolean;
  topicAuthorizedOperations: number;
  tagged: TaggedField[] | undefined;
}
const AS_READ = Symbol('topic as read');
/**
 * Kept on the topic object under a symbol rather than in a WeakMap (whose entries cost the
 * garbage collector dearly at 5,000 topics and more); a copy of the topic carries it along, and
 * is written whole only if its fields still match.
 */
type TopicAsRead = MetadataResponseTopic & { [AS_READ]?: ReadTopic };

function readTagged(r: Reader): TaggedField[] | undefined {
  let fields: TaggedField[] | undefined;
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    (fields ??= []).push({ tag, data: r.raw(size) });
  }
  return fields;
}

function skipTagged(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

function skipInt32Array(r: Reader, version: number, name: string): void {
  const n = version >= 9 ? r.compactArrayLength() : r.arrayLength();
  if (n < 0) throw new ProtocolError('null-not-allowed', `null array ${name}`);
  r.skip(n * 4);
}

/** Walks the partitions array without building it; returns its bytes, length prefix included. */
function skipPartitions(r: Reader, version: number): Buffer {
  const start = r.pos;
  const n = version >= 9 ? r.compactArrayLength() : r.arrayLength();
  if (n < 0) throw new ProtocolError('null-not-allowed', 'null array Partitions');
  for (let i = 0; i < n; i++) {
    r.skip(version >= 7 ? 14 : 10); // errorCode, partitionIndex, leaderId[, leaderEpoch]
    skipInt32Array(r, version, 'ReplicaNodes');
    skipInt32Array(r, version, 'IsrNodes');
    if (version >= 5) skipInt32Array(r, version, 'OfflineReplicas');
    if (version >= 9) skipTagged(r);
  }
  return r.buf.subarray(start, r.pos);
}

function readTopic(r: Reader, version: number): MetadataResponseTopic {
  const start = r.pos;
  const errorCode = r.int16();
  const name = version >= 9 ? (version >= 12 ? r.compactNullableString() : r.compactString()) : version >= 12 ? r.nullableString() : r.string();
  const topicId = version >= 10 ? r.uuid() : ZERO_UUID;
  const isInternal = version >= 1 ? r.bool() : false;
  const partitions: SkippedPartitions = [];
  partitions[SKIPPED] = skipPartitions(r, version);
  Object.freeze(partitions);
  const topicAuthorizedOperations = version >= 8 ? r.int32() : -2147483648;
  const unknown = version >= 9 ? readTagged(r) : undefined;
  const read = { bytes: r.buf.subarray(start, r.pos), partitions, errorCode, name, topicId, isInternal, topicAuthorizedOperations, tagged: unknown };
  return { errorCode, name, topicId, isInternal, partitions, topicAuthorizedOperations, _unknownTaggedFields: unknown, [AS_READ]: read } as TopicAsRead;
}

/** The topic's bytes as read, if it still holds exactly what they encode. */
function unchangedBytes(t: TopicAsRead): Buffer | undefined {
  const read = t[AS_READ];
  if (read === undefined) return undefined;
  const same =
    t.partitions === read.partitions &&
    t.errorCode === read.errorCode &&
    t.name === read.name &&
    t.topicId === read.topicId &&
    t.isInternal === read.isInternal &&
    t.topicAuthorizedOperations === read.topicAuthorizedOperations &&
    t._unknownTaggedFields === read.tagged;
  return same ? read.bytes : undefined;
}

export function readMetadataResponseLazily(r: Reader, version: number): MetadataResponse {
  const prefix = readMetadataPrefix(r, version);
  const n = version >= 9 ? r.compactArrayLength() : r.arrayLength();
  if (n < 0) throw new ProtocolError('null-not-allowed', 'null array Topics');
  const topics: MetadataResponseTopic[] = [];
  for (let i = 0; i < n; i++) topics.push(readTopic(r, version));
  const clusterAuthorizedOperations = version >= 8 && version <= 10 ? r.int32() : -2147483648;
  const unknown = version >= 9 ? readTagged(r) : undefined;
  return { ...prefix, topics, clusterAuthorizedOperations, _unknownTaggedFields: unknown };
}

function writeTopic(w: Writer, t: MetadataResponseTopic, version: number): void {
  const unchanged = unchangedBytes(t);
  if (unchanged) {
    w.raw(unchanged);
    return;
  }
  w.int16(t.errorCode);
  if (version >= 9) {
    if (version >= 12) w.compactNullableString(t.name);
    else w.compactString(nonNull(t.name, 't.name'));
  } else if (version >= 12) w.nullableString(t.name);
  else w.string(nonNull(t.name, 't.name'));
  if (version >= 10) w.uuid(t.topicId);
  if (version >= 1) w.bool(t.isInternal);
  const raw = (t.partitions as SkippedPartitions)[SKIPPED];
  if (raw) w.raw(raw);
  else {
    if (version >= 9) w.compactArrayLength(t.partitions.length);
    else w.arrayLength(t.partitions.length);
    for (const p of t.partitions) writeMetadataResponsePartition(w, p, version);
  }
  if (version >= 8) w.int32(t.topicAuthorizedOperations);
  if (version >= 9) writeTaggedFields(w, t._unknownTaggedFields);
}

/** Writes a Metadata answer read by readMetadataResponseLazily (or built otherwise) at the same version. */
export function writeMetadataResponseLazily(w: Writer, m: MetadataResponse, version: number): void {
  writeMetadataPrefix(w, m, version);
  if (version >= 9) w.compactArrayLength(m.topics.length);
  else w.arrayLength(m.topics.length);
  for (const t of m.topics) writeTopic(w, t, version);
  if (version >= 8 && version <= 10) w.int32(m.clusterAuthorizedOperations);
  if (version >= 9) writeTaggedFields(w, m._unknownTaggedFields);
}

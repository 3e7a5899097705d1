import { type MetadataResponseBroker, readMetadataResponseBroker, writeMetadataResponseBroker } from '../protocol/generated/messages/MetadataResponse.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Reader } from '../protocol/reader.js';
import type { Writer } from '../protocol/writer.js';

/**
 * The part of a Metadata response before its topics: what a listener that does not authorize
 * needs to rewrite (the broker addresses). The topics that follow, often megabytes on a large
 * cluster, are then passed on as the broker sent them instead of being decoded and encoded again.
 * Field order and encodings as in Kafka's MetadataResponse.json (v0-v12).
 */
export interface MetadataPrefix {
  throttleTimeMs: number;
  brokers: MetadataResponseBroker[];
  clusterId: string | null;
  controllerId: number;
}

export function readMetadataPrefix(r: Reader, version: number): MetadataPrefix {
  const throttleTimeMs = version >= 3 ? r.int32() : 0;
  const n = version >= 9 ? r.compactArrayLength() : r.arrayLength();
  if (n < 0) throw new ProtocolError('null-not-allowed', 'null array Brokers');
  const brokers: MetadataResponseBroker[] = [];
  for (let i = 0; i < n; i++) brokers.push(readMetadataResponseBroker(r, version));
  const clusterId = version >= 2 ? (version >= 9 ? r.compactNullableString() : r.nullableString()) : null;
  const controllerId = version >= 1 ? r.int32() : -1;
  return { throttleTimeMs, brokers, clusterId, controllerId };
}

export function writeMetadataPrefix(w: Writer, m: MetadataPrefix, version: number): void {
  if (version >= 3) w.int32(m.throttleTimeMs);
  if (version >= 9) w.compactArrayLength(m.brokers.length);
  else w.arrayLength(m.brokers.length);
  for (const b of m.brokers) writeMetadataResponseBroker(w, b, version);
  if (version >= 2) {
    if (version >= 9) w.compactNullableString(m.clusterId);
    else w.nullableString(m.clusterId);
  }
  if (version >= 1) w.int32(m.controllerId);
}

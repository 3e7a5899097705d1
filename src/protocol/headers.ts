import { writeTaggedFields } from './codec-support.js';
import { requestHeaderVersion, responseHeaderVersion } from './header-versions.js';
import type { Reader } from './reader.js';
import type { TaggedField } from './tagged-fields.js';
import type { Writer } from './writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Null in header v0 and when the client sent a null id. */
  clientId: string | null;
  headerVersion: 0 | 1 | 2;
  taggedFields: TaggedField[] | undefined;
}

export interface ResponseHeader {
  correlationId: number;
  taggedFields: TaggedField[] | undefined;
}

function readTaggedFields(r: Reader): TaggedField[] | undefined {
  const count = r.uvarint();
  let fields: TaggedField[] | undefined;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    (fields ??= []).push({ tag, data: r.raw(r.uvarint()) });
  }
  return fields;
}

/**
 * Reads a request header. Its version follows from the API key and version it starts with;
 * client_id keeps its classic int16 length even in header v2 so any server can read it.
 */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const clientId = headerVersion >= 1 ? r.nullableString() : null;
  const taggedFields = headerVersion >= 2 ? readTaggedFields(r) : undefined;
  return { apiKey, apiVersion, correlationId, clientId, headerVersion, taggedFields };
}

/** Moves a reader past a request header without decoding it; returns the header version. */
export function skipRequestHeader(r: Reader): 0 | 1 | 2 {
  const headerVersion = requestHeaderVersion(r.int16(), r.int16());
  r.skip(4);
  if (headerVersion >= 1) r.skipString();
  if (headerVersion >= 2) r.skipTaggedFields();
  return headerVersion;
}

export function writeRequestHeader(w: Writer, h: Omit<RequestHeader, 'headerVersion'>): void {
  const headerVersion = requestHeaderVersion(h.apiKey, h.apiVersion);
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  if (headerVersion >= 1) w.nullableString(h.clientId);
  if (headerVersion >= 2) writeTaggedFields(w, h.taggedFields);
}

export function readResponseHeader(r: Reader, apiKey: number, apiVersion: number): ResponseHeader {
  const correlationId = r.int32();
  const taggedFields = responseHeaderVersion(apiKey, apiVersion) >= 1 ? readTaggedFields(r) : undefined;
  return { correlationId, taggedFields };
}

export function writeResponseHeader(w: Writer, apiKey: number, apiVersion: number, h: ResponseHeader): void {
  w.int32(h.correlationId);
  if (responseHeaderVersion(apiKey, apiVersion) >= 1) writeTaggedFields(w, h.taggedFields);
}

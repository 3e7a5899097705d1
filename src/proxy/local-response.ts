import { RESPONSE_CODECS } from '../protocol/generated/index.js';
import { writeResponseHeader } from '../protocol/headers.js';
import { Writer } from '../protocol/writer.js';

/** A complete response frame (size prefix, header, body) for an answer the proxy gives itself. */
export function responseFrame(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  const w = new Writer();
  w.int32(0);
  writeResponseHeader(w, apiKey, version, { correlationId, taggedFields: undefined });
  RESPONSE_CODECS[apiKey].write(w, body, version);
  const frame = w.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

/**
 * The response a broker gives when it refuses a whole request: the API's response with its
 * top-level error code (and message, where the version has one) set, everything else empty.
 */
export function errorResponseFrame(apiKey: number, version: number, correlationId: number, errorCode: number, message?: string): Buffer {
  const body = RESPONSE_CODECS[apiKey].create() as Record<string, unknown>;
  if ('errorCode' in body) body.errorCode = errorCode;
  if (message !== undefined && 'errorMessage' in body) body.errorMessage = message;
  return responseFrame(apiKey, version, correlationId, body);
}

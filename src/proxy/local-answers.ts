import { API_KEYS } from '../protocol/generated/apis.js';
import { defaultApiVersionsResponse, writeApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import { writeResponseHeader } from '../protocol/headers.js';
import { Writer } from '../protocol/writer.js';
import { type ApiVersionEntry, capApiVersions } from './client-apis.js';

const UNSUPPORTED_VERSION = 35;

/**
 * The answer to an ApiVersions request at a version the proxy does not know: a v0 response
 * with UNSUPPORTED_VERSION and the versions on offer, so the client retries at one it can use
 * (what a broker does, and what clients expect).
 */
export function unsupportedApiVersionsAnswer(correlationId: number, brokerApis: readonly ApiVersionEntry[]): Buffer {
  const body = defaultApiVersionsResponse();
  body.errorCode = UNSUPPORTED_VERSION;
  body.apiKeys = capApiVersions(brokerApis).map((a) => ({ ...a, _unknownTaggedFields: undefined }));
  const w = new Writer();
  w.int32(0);
  writeResponseHeader(w, API_KEYS.ApiVersions, 0, { correlationId, taggedFields: undefined });
  writeApiVersionsResponse(w, body, 0);
  const frame = w.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

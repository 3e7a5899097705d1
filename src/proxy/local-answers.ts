import { API_KEYS } from '../protocol/generated/apis.js';
import { defaultApiVersionsResponse } from '../protocol/generated/messages/ApiVersionsResponse.js';
import { type ApiVersionEntry, capApiVersions } from './client-apis.js';
import { responseFrame } from './local-response.js';

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
  return responseFrame(API_KEYS.ApiVersions, 0, correlationId, body);
}

/** The proxy's own ApiVersions answer (during SASL, before any broker connection exists). */
export function apiVersionsAnswer(correlationId: number, version: number, brokerApis: readonly ApiVersionEntry[]): Buffer {
  const body = defaultApiVersionsResponse();
  body.apiKeys = capApiVersions(brokerApis).map((a) => ({ ...a, _unknownTaggedFields: undefined }));
  return responseFrame(API_KEYS.ApiVersions, version, correlationId, body);
}

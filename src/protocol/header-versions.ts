import { API_KEYS, APIS } from './generated/apis.js';

/**
 * Whether a request/response at this version uses flexible encoding. Versions above the
 * highest known are judged as Kafka's generated code judges them (flexible ranges are open),
 * which is what lets a too-new ApiVersions request still be parsed and answered.
 */
export function isFlexibleVersion(apiKey: number, version: number): boolean {
  const api = APIS[apiKey];
  return api !== undefined && api.flexibleFrom >= 0 && version >= api.flexibleFrom;
}

/** Request header version: 2 for flexible versions, 1 otherwise, 0 only for ControlledShutdown v0. */
export function requestHeaderVersion(apiKey: number, version: number): 0 | 1 | 2 {
  if (apiKey === API_KEYS.ControlledShutdown && version === 0) return 0;
  return isFlexibleVersion(apiKey, version) ? 2 : 1;
}

/**
 * Response header version: 1 for flexible versions, 0 otherwise, and always 0 for ApiVersions
 * so that a client can read the answer before it knows which versions the server speaks.
 */
export function responseHeaderVersion(apiKey: number, version: number): 0 | 1 {
  if (apiKey === API_KEYS.ApiVersions) return 0;
  return isFlexibleVersion(apiKey, version) ? 1 : 0;
}

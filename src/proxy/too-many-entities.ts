import { INVALID_REQUEST } from '../authz/api-rules/errors.js';
import { MESSAGE_SCHEMAS } from '../protocol/generated/schema.js';
import { errorResponseFrame } from './local-response.js';

/** Version ranges of each response's top-level error code, by API key. */
const TOP_LEVEL_ERROR_CODE = new Map<number, readonly [number, number]>();
for (const m of MESSAGE_SCHEMAS) {
  const field = m.type === 'response' ? m.fields.find((f) => f.name === 'errorCode' && f.tag === null) : undefined;
  if (field?.versions) TOP_LEVEL_ERROR_CODE.set(m.apiKey, field.versions);
}

/**
 * The answer to a request naming more entities than the proxy accepts: the API's response with
 * INVALID_REQUEST (42) as its top-level error, which clients report without retrying. Undefined
 * where the response has no top-level error at this version (Produce, Metadata before v13):
 * an empty answer there would read as success, so the connection is closed instead, as a broker
 * closes one whose request it cannot answer.
 */
export function tooManyEntitiesAnswer(apiKey: number, version: number, correlationId: number, entities: number, limit: number): Buffer | undefined {
  const versions = TOP_LEVEL_ERROR_CODE.get(apiKey);
  if (!versions || version < versions[0] || version > versions[1]) return undefined;
  const message = `the request holds ${entities} entries (topics, partitions, groups, ids); this proxy accepts at most ${limit} per request`;
  return errorResponseFrame(apiKey, version, correlationId, INVALID_REQUEST, message);
}

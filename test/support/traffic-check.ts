import { REQUEST_CODECS, REQUEST_SCANNERS, RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { APIS } from '../../src/protocol/generated/apis.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { readRequestHeader, readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { type Entity, entitiesOf } from './entities.js';
import type { RecordedExchange } from './recording-relay.js';

/** What went wrong decoding one recorded frame; an empty list means the traffic decoded cleanly. */
export interface DecodeProblem {
  api: string;
  version: number;
  direction: 'request' | 'response';
  problem: string;
}

function check(problems: DecodeProblem[], e: RecordedExchange, direction: DecodeProblem['direction'], fn: () => string | undefined): void {
  const api = APIS[e.apiKey]?.name ?? `api ${e.apiKey}`;
  try {
    const problem = fn();
    if (problem) problems.push({ api, version: e.apiVersion, direction, problem });
  } catch (err) {
    problems.push({ api, version: e.apiVersion, direction, problem: String(err) });
  }
}

/**
 * Decodes every recorded request and response with the generated codecs, the way the proxy
 * will: each must decode to its last byte, and each request's scanner must report what the full
 * decode finds.
 */
export function decodeRecordedTraffic(exchanges: RecordedExchange[]): DecodeProblem[] {
  const problems: DecodeProblem[] = [];
  for (const e of exchanges) {
    check(problems, e, 'request', () => {
      const r = new Reader(e.request, 4);
      readRequestHeader(r);
      const bodyStart = r.pos;
      const decoded = REQUEST_CODECS[e.apiKey].read(r, e.apiVersion) as Record<string, unknown>;
      if (r.remaining !== 0) return `${r.remaining} bytes left after decoding`;
      const scanner = REQUEST_SCANNERS[e.apiKey];
      if (!scanner) return undefined;
      const scanned: Entity[] = [];
      scanner(new Reader(e.request, bodyStart), e.apiVersion, (type, value, path) => scanned.push([type, value, path]));
      const schema = MESSAGE_SCHEMAS.find((s) => s.type === 'request' && s.apiKey === e.apiKey)!;
      const expected = entitiesOf(schema.fields, e.apiVersion, decoded);
      return JSON.stringify(scanned) === JSON.stringify(expected) ? undefined : `scanner saw ${JSON.stringify(scanned)}, decoder ${JSON.stringify(expected)}`;
    });
    if (!e.response) continue;
    check(problems, e, 'response', () => {
      const r = new Reader(e.response!, 4);
      readResponseHeader(r, e.apiKey, e.apiVersion);
      RESPONSE_CODECS[e.apiKey].read(r, e.apiVersion);
      return r.remaining !== 0 ? `${r.remaining} bytes left after decoding` : undefined;
    });
  }
  return problems;
}

/** "Name vN" for each distinct request seen, sorted, for reporting coverage. */
export function apisSeen(exchanges: RecordedExchange[]): string[] {
  return [...new Set(exchanges.map((e) => `${APIS[e.apiKey]?.name ?? e.apiKey} v${e.apiVersion}`))].sort();
}

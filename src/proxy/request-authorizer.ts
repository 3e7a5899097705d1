import { NO_AUTHORIZATION } from '../authz/api-rules/no-authorization.js';
import type { ApiRule } from '../authz/api-rules/rule.js';
import { API_RULES } from '../authz/api-rules/table.js';
import type { SessionAccess } from '../authz/session-access.js';
import { APIS } from '../protocol/generated/apis.js';
import { REQUEST_CODECS, REQUEST_SCANNERS } from '../protocol/generated/index.js';
import { readRequestHeader, skipRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { requestFrameWithHeader } from '../protocol/request-frame.js';
import { responseFrame } from './local-response.js';
import type { TopicIds } from './topic-ids.js';

/** Changes a decoded broker response before it goes to the client. */
export type ResponseEdit = (response: never) => void;

export type RequestDecision =
  /** Send `frame` (the original, or rebuilt without denied entities) and apply `edit` to the answer. */
  | { kind: 'forward'; frame: Buffer; edit: ResponseEdit | undefined }
  /** Everything was denied: `frame` is the proxy's own answer. */
  | { kind: 'answer'; frame: Buffer }
  /** The request names topic ids the proxy must learn first: decide again once `ready` settles. */
  | { kind: 'wait'; ready: Promise<void> };

/**
 * Decides one request of an authorized session: decodes it with the generated codecs, runs the
 * API's rule, and turns the outcome into bytes to forward or an answer to give.
 */
export class RequestAuthorizer {
  constructor(
    readonly access: SessionAccess,
    private readonly topicIds: TopicIds,
  ) {}

  /** `retried` is set on the second attempt after a wait: unknown ids are then answered, not waited for again. */
  decide(frame: Buffer, apiKey: number, version: number, retried = false): RequestDecision {
    const rule = API_RULES[apiKey];
    if (rule === NO_AUTHORIZATION) return { kind: 'forward', frame, edit: undefined };
    if (rule.scanChecks && this.scanAllows(frame, apiKey, version, rule.scanChecks)) return { kind: 'forward', frame, edit: undefined };
    const r = new Reader(frame, 4);
    const header = readRequestHeader(r);
    const request = REQUEST_CODECS[apiKey].read(r, version);
    const ids = rule.topicIds?.(request, version);
    if (!retried && ids && ids.length > 0 && !this.topicIds.knowsAll(ids)) return { kind: 'wait', ready: this.topicIds.resolve(ids) };
    this.access.api = APIS[apiKey].name;
    const outcome = rule.authorize(request, { version, access: this.access, topicName: (id) => this.topicIds.name(id) });
    switch (outcome.action) {
      case 'forward':
        return { kind: 'forward', frame, edit: outcome.edit as ResponseEdit | undefined };
      case 'rebuild':
        return { kind: 'forward', frame: requestFrameWithHeader(header, outcome.request), edit: outcome.edit as ResponseEdit | undefined };
      case 'answer':
        return { kind: 'answer', frame: responseFrame(apiKey, version, header.correlationId, outcome.response) };
    }
  }

  /** Whether the scanner finds only entities the policy allows; false sends the request the long way, where denials are answered and logged. */
  private scanAllows(frame: Buffer, apiKey: number, version: number, checks: NonNullable<ApiRule['scanChecks']>): boolean {
    const r = new Reader(frame, 4);
    skipRequestHeader(r);
    let allowed = true;
    REQUEST_SCANNERS[apiKey]!(r, version, (_type, value, path) => {
      const check = checks[path];
      if (allowed && (check === undefined || !this.access.allows(check[0], value, check[1]))) allowed = false;
    });
    return allowed;
  }
}

import { NO_AUTHORIZATION } from '../authz/api-rules/no-authorization.js';
import type { ApiRule, StreamedEdit } from '../authz/api-rules/rule.js';
import { API_RULES } from '../authz/api-rules/table.js';
import type { AuthorizationOutcome, SessionAccess } from '../authz/session-access.js';
import { API_KEYS, APIS } from '../protocol/generated/apis.js';
import type { FetchResponseFetchableTopicResponse } from '../protocol/generated/messages/FetchResponse.js';
import { REQUEST_CODECS, REQUEST_SCANNERS } from '../protocol/generated/index.js';
import { readRequestHeader, skipRequestHeader } from '../protocol/headers.js';
import { ProtocolError } from '../protocol/errors.js';
import { Reader } from '../protocol/reader.js';
import { requestFrameWithHeader } from '../protocol/request-frame.js';
import { responseFrame } from './local-response.js';
import { tooManyEntitiesAnswer } from './too-many-entities.js';
import { fetchDenialsSplice } from './fetch-denials-splice.js';
import type { ResponseSplice } from './response-pipeline.js';
import type { TopicIds } from './topic-ids.js';
import { type FetchSessionEvent, FetchSessionMirror } from '../authz/fetch-session-mirror.js';

/** Changes a decoded broker response before it goes to the client. */
export type ResponseEdit = (response: never) => void;

/**
 * `verdict` is what the policy made of the request (in audit mode: would have made); absent where
 * nothing was decided (an API without authorization, a request refused for its size).
 */
export type RequestDecision =
  /**
   * Send `frame` (the original, or rebuilt without denied entities) and apply `edit` or `splice`
   * to the answer; `brokerVersion`, when set, is the version `frame` asks at instead of the client's.
   */
  | { kind: 'forward'; frame: Buffer; edit: ResponseEdit | undefined; splice?: ResponseSplice; brokerVersion?: number; verdict?: AuthorizationOutcome }
  /** Everything was denied: `frame` is the proxy's own answer. */
  | { kind: 'answer'; frame: Buffer; verdict?: AuthorizationOutcome }
  /** The request names topic ids the proxy must learn, or asks about every topic: decide again once `ready` settles. */
  | { kind: 'wait'; ready: Promise<void> };

/** How a rule's `leading` entries and `sessionOpened` reach the response of each API that has them. */
function streamedEdit(apiKey: number, version: number, outcome: StreamedEdit): ResponseSplice | undefined {
  if (outcome.leading === undefined && outcome.sessionOpened === undefined) return undefined;
  if (apiKey !== API_KEYS.Fetch) throw new Error(`${APIS[apiKey].name} has no streamed response edit`);
  return fetchDenialsSplice(version, (outcome.leading ?? []) as FetchResponseFetchableTopicResponse[], outcome.sessionOpened);
}

/**
 * Decides one request of an authorized session: decodes it with the generated codecs, runs the
 * API's rule, and turns the outcome into bytes to forward or an answer to give.
 */
export class RequestAuthorizer {
  /** The connection's fetch session, which the Fetch rule checks incremental fetches against. */
  private readonly fetchSession: FetchSessionMirror;

  constructor(
    readonly access: SessionAccess,
    private readonly topicIds: TopicIds,
    /**
     * limits.maxEntitiesPerRequest: the entries of every list a request holds (topics, partitions,
     * groups, ids), counted by the scanner before anything is decoded or decided.
     */
    private readonly maxEntitiesPerRequest: number,
    fetchSessionEvents?: (event: FetchSessionEvent) => void,
  ) {
    this.fetchSession = new FetchSessionMirror(maxEntitiesPerRequest, fetchSessionEvents);
  }

  /** `retried` is set on the second attempt after a wait: unknown ids are then answered, not waited for again. */
  decide(frame: Buffer, apiKey: number, version: number, retried = false): RequestDecision {
    const rule = API_RULES[apiKey];
    if (rule === NO_AUTHORIZATION) return { kind: 'forward', frame, edit: undefined };
    if (rule.scanChecks && version >= (rule.scanChecksFrom ?? 0)) {
      const scan = this.scan(frame, apiKey, version, rule.scanChecks);
      if (scan.entries > this.maxEntitiesPerRequest) return this.refuseTooMany(frame, apiKey, version, scan.entries);
      if (scan.allowed) return { kind: 'forward', frame, edit: undefined, verdict: 'allowed' };
    }
    const r = new Reader(frame, 4);
    // Decoding stops as soon as the request holds more entries than the limit: nothing is built for the rest.
    r.maxElements = this.maxEntitiesPerRequest;
    let header;
    let request;
    try {
      header = readRequestHeader(r);
      request = REQUEST_CODECS[apiKey].read(r, version);
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'too-many-entities') return this.refuseTooMany(frame, apiKey, version, r.elements);
      throw e;
    }
    const ids = rule.topicIds?.(request, version);
    if (!retried && ids && ids.length > 0 && !this.topicIds.knowsAll(ids)) return { kind: 'wait', ready: this.topicIds.resolve(ids) };
    if (!retried && rule.listsTopics?.(request) && !this.topicIds.listedRecently()) return { kind: 'wait', ready: this.topicIds.relist() };
    this.access.beginRequest(APIS[apiKey].name);
    let outcome;
    let verdict: AuthorizationOutcome;
    try {
      outcome = rule.authorize(request, {
        version,
        access: this.access,
        topicName: (id) => this.topicIds.name(id),
        clusterTopics: () => this.topicIds.topicNames(),
        fetchSession: this.fetchSession,
      });
    } finally {
      verdict = this.access.endRequest();
    }
    switch (outcome.action) {
      case 'forward':
        return { kind: 'forward', frame, edit: outcome.edit as ResponseEdit | undefined, splice: streamedEdit(apiKey, version, outcome), verdict };
      case 'rebuild':
        return {
          kind: 'forward',
          frame: requestFrameWithHeader(outcome.version === undefined ? header : { ...header, apiVersion: outcome.version }, outcome.request),
          edit: outcome.edit as ResponseEdit | undefined,
          splice: streamedEdit(apiKey, version, outcome),
          brokerVersion: outcome.version,
          verdict,
        };
      case 'answer':
        // Answered whole: nothing of it goes ahead, whatever else the policy allowed.
        return { kind: 'answer', frame: responseFrame(apiKey, version, header.correlationId, outcome.response), verdict: verdict === 'partial' ? 'denied' : verdict };
    }
  }

  /**
   * One pass of the scanner, for rules that decide from it: how many entries the request holds
   * (the elements of all its lists, so partitions count as well as the names: forwarding it
   * costs nothing, but refusing part of it means decoding and answering that many), and whether
   * the policy allows every name; not allowed sends the request the long way, where denials are
   * answered and logged.
   */
  private scan(frame: Buffer, apiKey: number, version: number, checks: NonNullable<ApiRule['scanChecks']>): { entries: number; allowed: boolean } {
    const scanner = REQUEST_SCANNERS[apiKey];
    if (!scanner) return { entries: 0, allowed: false };
    const r = new Reader(frame, 4);
    skipRequestHeader(r);
    let names = 0;
    let allowed = true;
    scanner(r, version, (_type, value, path) => {
      names++;
      if (!allowed) return;
      const check = checks[path];
      if (check === undefined) allowed = false;
      else {
        // Requests allowed here never reach the rule's checks, so the recorder hears of them here.
        this.access.recordUse(check[0], value, check[1]);
        if (!this.access.allows(check[0], value, check[1])) allowed = false;
      }
    });
    // Names outside lists (a transactional id) are entries too.
    return { entries: Math.max(names, r.elements), allowed };
  }

  /** The API's error answer where it has a top-level error, else the connection ends (a ProtocolError); logged either way. */
  private refuseTooMany(frame: Buffer, apiKey: number, version: number, entities: number): RequestDecision {
    const api = APIS[apiKey].name;
    const answer = tooManyEntitiesAnswer(apiKey, version, frame.readInt32BE(8), entities, this.maxEntitiesPerRequest);
    this.access.tooManyEntities(api, entities, this.maxEntitiesPerRequest, answer ? 'error response' : 'connection closed');
    if (!answer) throw new ProtocolError('too-many-entities', `${api} request holds ${entities} entries; the limit is ${this.maxEntitiesPerRequest}`);
    return { kind: 'answer', frame: answer };
  }
}

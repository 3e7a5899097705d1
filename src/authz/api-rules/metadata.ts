import type { MetadataRequest, MetadataRequestTopic } from '../../protocol/generated/messages/MetadataRequest.js';
import { type MetadataResponse, type MetadataResponseTopic, defaultMetadataResponseTopic } from '../../protocol/generated/messages/MetadataResponse.js';
import { NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import type { SessionAccess } from '../session-access.js';
import { TOPIC_AUTHORIZATION_FAILED } from './errors.js';
import type { ApiRule, RuleContext } from './rule.js';

/** Topics may be named by id from this version on. */
const METADATA_TOPIC_IDS_FROM = 10;

/** Whether the request lists every topic: null from v1, an empty list in v0. */
function listsAllTopics(req: MetadataRequest, version: number): boolean {
  return req.topics === null || (version === 0 && req.topics.length === 0);
}

function topicNameOf(t: MetadataRequestTopic, ctx: RuleContext): string | undefined {
  return t.name ?? (ctx.version >= METADATA_TOPIC_IDS_FROM ? ctx.topicName(t.topicId) : undefined);
}

function deniedTopic(t: MetadataRequestTopic, name: string): MetadataResponseTopic {
  // No partitions and no id: a denial must not reveal whether the topic exists.
  return { ...defaultMetadataResponseTopic(), errorCode: TOPIC_AUTHORIZATION_FAILED, name: t.name === null ? null : name };
}

/** Sets the authorized-operations fields from the policy, where the client asked for them. */
function reportAuthorizedOperations(resp: MetadataResponse, access: SessionAccess): void {
  if (resp.clusterAuthorizedOperations !== NOT_REQUESTED) resp.clusterAuthorizedOperations = authorizedOperations(access.grants, 'cluster', '');
  for (const t of resp.topics) {
    if (t.topicAuthorizedOperations !== NOT_REQUESTED && t.errorCode === 0 && t.name !== null) {
      t.topicAuthorizedOperations = authorizedOperations(access.grants, 'topic', t.name);
    }
  }
}

/**
 * Metadata: Topic Describe. A listing of all topics silently leaves out the ones the principal
 * may not describe; topics asked for by name come back with 29 and nothing else. Automatic
 * topic creation is switched off for the request unless every topic it names may be created.
 */
export const metadataRule: ApiRule<MetadataRequest, MetadataResponse> = {
  authorize(req, ctx) {
    const { access, version } = ctx;
    if (listsAllTopics(req, version)) {
      return {
        action: 'forward',
        edit: (resp) => {
          resp.topics = resp.topics.filter((t) => t.name !== null && access.permits('topic', t.name, 'describe'));
          reportAuthorizedOperations(resp, access);
        },
      };
    }
    const allowed: MetadataRequestTopic[] = [];
    const denied: MetadataResponseTopic[] = [];
    let everyTopicCreatable = true;
    for (const t of req.topics!) {
      const name = topicNameOf(t, ctx);
      // An id the proxy cannot name goes to the broker, whose answer is checked below.
      if (name !== undefined && !access.check('topic', name, 'describe')) {
        denied.push(deniedTopic(t, name));
        continue;
      }
      allowed.push(t);
      if (name === undefined || !access.permits('topic', name, 'create')) everyTopicCreatable = false;
    }
    const edit = (resp: MetadataResponse) => {
      // Whatever the broker returned, the client only sees topics it may describe.
      resp.topics = resp.topics.map((t) => (t.name === null || access.permits('topic', t.name, 'describe') ? t : deniedTopic({ name: t.name, topicId: t.topicId }, t.name)));
      resp.topics.push(...denied);
      reportAuthorizedOperations(resp, access);
    };
    const stopCreation = req.allowAutoTopicCreation && version >= 4 && !everyTopicCreatable && !access.permits('cluster', '', 'create');
    if (denied.length === 0 && !stopCreation) return { action: 'forward', edit };
    // In v0 an empty list means every topic: keep the request as it came and let the edit hide them.
    if (allowed.length === 0 && version === 0) return { action: 'forward', edit: (resp) => ((resp.topics = []), edit(resp)) };
    return { action: 'rebuild', request: { ...req, topics: allowed, allowAutoTopicCreation: req.allowAutoTopicCreation && !stopCreation }, edit };
  },
};

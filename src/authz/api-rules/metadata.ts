import { ZERO_UUID } from '../../protocol/codec-support.js';
import type { MetadataRequest, MetadataRequestTopic } from '../../protocol/generated/messages/MetadataRequest.js';
import { type MetadataResponse, type MetadataResponseTopic, defaultMetadataResponseTopic } from '../../protocol/generated/messages/MetadataResponse.js';
import { NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import type { SessionAccess } from '../session-access.js';
import { TOPIC_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_OR_PARTITION } from './errors.js';
import { type ApiRule, type RuleContext, appendAll } from './rule.js';

/**
 * Below v4 a Metadata request cannot say "do not create these topics": the broker would create
 * any topic it names (auto.create.topics.enable). A request the proxy must change is therefore
 * asked at v4, which can, and the answer goes back in the client's version (v0 also reads an
 * empty list as every topic, so a list emptied by denials must not be sent at v0).
 */
const CAN_REFUSE_CREATION_FROM = 4;
/** Topics may be named by id from this version on. */
const METADATA_TOPIC_IDS_FROM = 10;

function topicNameOf(t: MetadataRequestTopic, ctx: RuleContext): string | undefined {
  return t.name ?? (ctx.version >= METADATA_TOPIC_IDS_FROM ? ctx.topicName(t.topicId) : undefined);
}

/** No partitions: a denial must not reveal whether the topic exists. A topic asked for by id keeps its id and gets no name, as a broker answers. */
function deniedTopic(t: MetadataRequestTopic): MetadataResponseTopic {
  return { ...defaultMetadataResponseTopic(), errorCode: TOPIC_AUTHORIZATION_FAILED, name: t.name, topicId: t.name === null ? t.topicId : ZERO_UUID };
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
 * topic creation needs Create on the topic or the cluster: without it the request goes to the
 * broker with creation off, and a topic that does not exist comes back with 29, as a broker
 * with an authorizer answers.
 */
export const metadataRule: ApiRule<MetadataRequest, MetadataResponse> = {
  authorize(req, ctx) {
    const { access } = ctx;
    if (req.topics === null || (ctx.version === 0 && req.topics.length === 0)) {
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
    const notCreatable = new Set<string>();
    // Strict answers (allows, not permits): in audit mode the creation goes ahead but is still logged.
    const clusterCreate = access.allows('cluster', '', 'create');
    for (const t of req.topics) {
      const name = topicNameOf(t, ctx);
      // An id the proxy cannot name goes to the broker, whose answer is checked below.
      if (name !== undefined && !access.check('topic', name, 'describe')) {
        denied.push(deniedTopic(t));
        continue;
      }
      allowed.push(t);
      if (name !== undefined && !clusterCreate && !access.allows('topic', name, 'create')) notCreatable.add(name);
    }
    const refuseCreation = req.allowAutoTopicCreation && notCreatable.size > 0;
    const stopCreation = refuseCreation && access.mode === 'enforce';
    const edit = (resp: MetadataResponse) => {
      const creationRefused: string[] = [];
      // Whatever the broker returned, the client only sees topics it may describe.
      resp.topics = resp.topics.map((t) => {
        if (t.name !== null && !access.permits('topic', t.name, 'describe')) return deniedTopic({ name: null, topicId: t.topicId });
        // A KRaft broker that creates a topic answers "unknown" while its controller does so.
        if (refuseCreation && t.name !== null && t.errorCode === UNKNOWN_TOPIC_OR_PARTITION && notCreatable.has(t.name)) {
          creationRefused.push(t.name);
          if (stopCreation) return deniedTopic(t);
        }
        return t;
      });
      // Only the broker's answer tells that these did not exist and would have been created.
      if (creationRefused.length > 0) access.deniedByAnswer('Metadata', 'topic', creationRefused, 'create');
      appendAll(resp.topics, denied);
      reportAuthorizedOperations(resp, access);
    };
    if (denied.length === 0 && !stopCreation) return { action: 'forward', edit };
    const request = { ...req, topics: allowed, allowAutoTopicCreation: req.allowAutoTopicCreation && !stopCreation };
    if (ctx.version < CAN_REFUSE_CREATION_FROM) return { action: 'rebuild', request, edit, version: CAN_REFUSE_CREATION_FROM };
    return { action: 'rebuild', request, edit };
  },
};

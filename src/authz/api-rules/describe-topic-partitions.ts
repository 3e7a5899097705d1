import type { DescribeTopicPartitionsRequest, DescribeTopicPartitionsRequestTopicRequest } from '../../protocol/generated/messages/DescribeTopicPartitionsRequest.js';
import {
  type DescribeTopicPartitionsResponse,
  type DescribeTopicPartitionsResponseTopic,
  defaultDescribeTopicPartitionsResponse,
  defaultDescribeTopicPartitionsResponseTopic,
} from '../../protocol/generated/messages/DescribeTopicPartitionsResponse.js';
import { NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import type { SessionAccess } from '../session-access.js';
import { byCodeUnits, firstAtOrAfter } from '../topic-order.js';
import { INVALID_REQUEST, TOPIC_AUTHORIZATION_FAILED } from './errors.js';
import type { ApiRule, Outcome } from './rule.js';

type Response = DescribeTopicPartitionsResponse;

/**
 * A broker's page never holds more partitions than its max.request.partition.size.limit
 * (Kafka's default); the proxy sizes the pages it asks for by it.
 */
const BROKER_PAGE_PARTITIONS = 2000;

/** Sets the authorized-operations field of the topics the broker describes from the policy, where the broker reported it. */
function reportTopicOperations(resp: Response, access: SessionAccess): void {
  for (const t of resp.topics) {
    if (t.topicAuthorizedOperations !== NOT_REQUESTED && t.errorCode === 0 && t.name !== null) {
      t.topicAuthorizedOperations = authorizedOperations(access.grants, 'topic', t.name);
    }
  }
}

function topicError(name: string, errorCode: number): DescribeTopicPartitionsResponseTopic {
  // No id and no partitions: an error must not reveal whether the topic exists.
  return { ...defaultDescribeTopicPartitionsResponseTopic(), name, errorCode };
}

/** Kafka's answer to a cursor it refuses: INVALID_REQUEST on every topic the request names (none for a listing of every topic). */
function invalidCursorAnswer(req: DescribeTopicPartitionsRequest): Outcome<Response> {
  const topics: DescribeTopicPartitionsResponseTopic[] = [];
  for (const t of req.topics) topics.push(topicError(t.name, INVALID_REQUEST));
  return { action: 'answer', response: { ...defaultDescribeTopicPartitionsResponse(), topics } };
}

/**
 * A request naming topics. As Kafka: only topics at or after the cursor count, and the cursor
 * must name one of them. The broker is asked about the describable ones only, so its next cursor
 * names one of those; the cursor is passed on only when it names one of them too (a denied
 * cursor topic is simply where the walk starts). Denied topics get 29 on the page that reaches
 * them: those before the broker's next cursor, or all of them on the last page.
 */
function describeNamedTopics(req: DescribeTopicPartitionsRequest, access: SessionAccess): Outcome<Response> {
  const cursor = req.cursor;
  const from = cursor?.topicName ?? '';
  const asked = new Map<string, DescribeTopicPartitionsRequestTopicRequest>();
  for (const t of req.topics) if (t.name >= from && !asked.has(t.name)) asked.set(t.name, t);
  if (cursor && (!asked.has(cursor.topicName) || cursor.partitionIndex < 0)) return invalidCursorAnswer(req);

  const allowed: DescribeTopicPartitionsRequestTopicRequest[] = [];
  const denied: string[] = [];
  let cursorAllowed = false;
  for (const [name, t] of asked) {
    if (!access.check('topic', name, 'describe')) denied.push(name);
    else {
      allowed.push(t);
      if (name === cursor?.topicName) cursorAllowed = true;
    }
  }
  if (denied.length === 0) return { action: 'forward', edit: (resp) => reportTopicOperations(resp, access) };
  denied.sort(byCodeUnits);
  // An empty list would ask the broker for every topic: answer instead.
  if (allowed.length === 0) return { action: 'answer', response: { ...defaultDescribeTopicPartitionsResponse(), topics: denied.map((name) => topicError(name, TOPIC_AUTHORIZATION_FAILED)) } };
  return {
    action: 'rebuild',
    request: { ...req, topics: allowed, cursor: cursorAllowed ? cursor : null },
    edit: (resp) => {
      reportTopicOperations(resp, access);
      const until = resp.nextCursor?.topicName;
      for (const name of denied) {
        if (until !== undefined && name >= until) break;
        resp.topics.push(topicError(name, TOPIC_AUTHORIZATION_FAILED));
      }
    },
  };
}

/**
 * A listing of every topic (an empty list). The proxy takes the cluster's topic names from its
 * own listing, keeps those at or after the cursor that the principal may describe, and asks the
 * broker about just enough of them by name to fill one page. The broker's next cursor then names
 * a describable topic, and a cursor naming a denied or missing topic starts the walk at the next
 * describable one, as on a broker with ACLs. Topics the principal may not describe are left out
 * silently, and never looked at by the broker.
 */
function describeEveryTopic(req: DescribeTopicPartitionsRequest, access: SessionAccess, listed: readonly string[] | undefined): Outcome<Response> {
  const cursor = req.cursor;
  if (cursor && cursor.partitionIndex < 0) return invalidCursorAnswer(req);
  // The request cannot be answered without the listing; the connection ends, as when a broker is unreachable.
  if (listed === undefined) throw new Error('the cluster\'s topics could not be listed');
  // One name more than the page holds partitions (a topic has one at least): the broker fills the
  // page and names the next topic as its cursor. Where it cannot (topics deleted since the
  // listing), the cursor is pointed at the first describable topic the broker was not asked about.
  const pageTopics = Math.min(Math.max(req.responsePartitionLimit, 1), BROKER_PAGE_PARTITIONS) + 1;
  const names: DescribeTopicPartitionsRequestTopicRequest[] = [];
  let following: string | undefined;
  for (let i = firstAtOrAfter(listed, cursor?.topicName ?? ''); i < listed.length; i++) {
    if (!access.permits('topic', listed[i], 'describe')) continue;
    if (names.length === pageTopics) {
      following = listed[i];
      break;
    }
    names.push({ name: listed[i] });
  }
  if (names.length === 0) return { action: 'answer', response: defaultDescribeTopicPartitionsResponse() };
  return {
    action: 'rebuild',
    request: { ...req, topics: names, cursor: cursor && names[0].name === cursor.topicName ? cursor : null },
    edit: (resp) => {
      // As Kafka in a listing: topics it cannot describe (deleted since the proxy listed them) are left out.
      resp.topics = resp.topics.filter((t) => t.errorCode === 0);
      if (resp.nextCursor === null && following !== undefined) resp.nextCursor = { topicName: following, partitionIndex: 0 };
      reportTopicOperations(resp, access);
    },
  };
}

/**
 * DescribeTopicPartitions: Topic Describe per topic (29). Pages follow Kafka's order of names and
 * its cursor (topic name and partition index), and no page, error or cursor names a topic the
 * principal may not describe unless the client named it itself.
 */
export const describeTopicPartitionsRule: ApiRule<DescribeTopicPartitionsRequest, Response> = {
  listsTopics: (req) => req.topics.length === 0,
  authorize(req, { access, clusterTopics }) {
    return req.topics.length === 0 ? describeEveryTopic(req, access, clusterTopics()) : describeNamedTopics(req, access);
  },
};

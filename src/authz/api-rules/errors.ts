/** Kafka error codes a denial is answered with. */
export const UNKNOWN_TOPIC_OR_PARTITION = 3;
export const INCONSISTENT_GROUP_PROTOCOL = 23;
export const TOPIC_AUTHORIZATION_FAILED = 29;
export const GROUP_AUTHORIZATION_FAILED = 30;
export const CLUSTER_AUTHORIZATION_FAILED = 31;
export const INVALID_REQUEST = 42;
export const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
export const OPERATION_NOT_ATTEMPTED = 55;
export const FETCH_SESSION_ID_NOT_FOUND = 70;
export const INVALID_FETCH_SESSION_EPOCH = 71;
export const UNKNOWN_TOPIC_ID = 100;
export const FETCH_SESSION_TOPIC_ID_ERROR = 106;

/**
 * The messages Kafka's Errors give these codes (Errors.message()), for the answers in which a
 * broker or KRaft controller sends the default message along with the code.
 */
export const KAFKA_MESSAGE: Readonly<Record<number, string>> = {
  [TOPIC_AUTHORIZATION_FAILED]: 'Topic authorization failed.',
  [GROUP_AUTHORIZATION_FAILED]: 'Group authorization failed.',
  [CLUSTER_AUTHORIZATION_FAILED]: 'Cluster authorization failed.',
  [INVALID_REQUEST]:
    'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details.',
  [TRANSACTIONAL_ID_AUTHORIZATION_FAILED]: 'Transactional Id authorization failed.',
  [UNKNOWN_TOPIC_ID]: 'This server does not host this topic ID.',
};

/** Kafka error codes a denial is answered with. */
export const UNKNOWN_TOPIC_OR_PARTITION = 3;
export const TOPIC_AUTHORIZATION_FAILED = 29;
export const GROUP_AUTHORIZATION_FAILED = 30;
export const CLUSTER_AUTHORIZATION_FAILED = 31;
export const INVALID_REQUEST = 42;
export const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
export const OPERATION_NOT_ATTEMPTED = 55;
export const FETCH_SESSION_ID_NOT_FOUND = 70;
export const UNKNOWN_TOPIC_ID = 100;

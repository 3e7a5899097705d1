/**
 * What a request scanner reports: the names Kafka's specs mark with entityType, plus topic ids
 * (uuid fields named TopicId), which identify topics in Fetch v13+ and similar versions.
 */
export type ScannedEntity = 'topicName' | 'groupId' | 'transactionalId' | 'topicId';

/**
 * Called once per entity value a request names, in wire order; null values are not reported.
 * `path` says where the value sits (as in the entity-field tables, e.g. 'topics[].topic'), so a
 * caller can tell, say, fetched topics from forgotten ones.
 */
export type EntityVisitor = (type: ScannedEntity, value: string, path: string) => void;

import type { ProduceRequest, ProduceRequestTopicProduceData } from '../../protocol/generated/messages/ProduceRequest.js';
import {
  type ProduceResponse,
  defaultProduceResponse,
  defaultProduceResponsePartitionProduceResponse,
  defaultProduceResponseTopicProduceResponse,
} from '../../protocol/generated/messages/ProduceResponse.js';
import { TOPIC_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED } from './errors.js';
import { type ApiRule, denyEach, partition } from './rule.js';

function produceErrors(topics: readonly ProduceRequestTopicProduceData[], errorCode: number): ProduceResponse['responses'] {
  return topics.map((t) => ({
    ...defaultProduceResponseTopicProduceResponse(),
    name: t.name,
    partitionResponses: t.partitionData.map((p) => ({ ...defaultProduceResponsePartitionProduceResponse(), index: p.index, errorCode, baseOffset: -1n })),
  }));
}

/** A record batch's header up to its magic byte (offset, length, leader epoch), and the offset of its attributes (magic 2). */
const BATCH_HEADER_UP_TO_MAGIC = 17;
const BATCH_LENGTH_OFFSET = 8;
const BATCH_LOG_OVERHEAD = 12;
const BATCH_MAGIC_OFFSET = 16;
const BATCH_ATTRIBUTES_OFFSET = 21;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
/** From v3 a Produce request holds one batch per partition (the broker refuses more); before, any number. */
const ONE_BATCH_PER_PARTITION_FROM = 3;

/**
 * Whether a partition's records are transactional, as Kafka's RequestUtils.hasTransactionalRecords
 * tells: from its first batch only, and only a complete one of magic 2 or later.
 */
function firstBatchIsTransactional(records: Buffer | null): boolean {
  if (records === null || records.length < BATCH_HEADER_UP_TO_MAGIC) return false;
  const length = records.readInt32BE(BATCH_LENGTH_OFFSET);
  // A batch too short for its attributes is corrupt: the broker refuses it; counted as transactional meanwhile.
  if (length < BATCH_ATTRIBUTES_OFFSET + 2 - BATCH_LOG_OVERHEAD) return true;
  if (records.length < length + BATCH_LOG_OVERHEAD || records[BATCH_MAGIC_OFFSET] < 2) return false;
  return (records.readInt16BE(BATCH_ATTRIBUTES_OFFSET) & TRANSACTIONAL_FLAG) !== 0;
}

/**
 * Whether any batch after the first is transactional or a control batch (magic 2 or later).
 * Kafka looks at the first batch only; before v3 a request may hold several per partition and
 * has no transactional id, so a later one could join another producer's open transaction.
 * A length that cannot be walked counts as such a batch: the broker would refuse it anyway.
 */
function laterBatchIsTransactional(records: Buffer | null): boolean {
  if (records === null || records.length < BATCH_HEADER_UP_TO_MAGIC) return false;
  let offset = BATCH_LOG_OVERHEAD + records.readInt32BE(BATCH_LENGTH_OFFSET);
  while (offset + BATCH_HEADER_UP_TO_MAGIC <= records.length) {
    const length = records.readInt32BE(offset + BATCH_LENGTH_OFFSET);
    if (records[offset + BATCH_MAGIC_OFFSET] >= 2) {
      if (length < BATCH_ATTRIBUTES_OFFSET + 2 - BATCH_LOG_OVERHEAD || offset + BATCH_ATTRIBUTES_OFFSET + 2 > records.length) return true;
      if ((records.readInt16BE(offset + BATCH_ATTRIBUTES_OFFSET) & (TRANSACTIONAL_FLAG | CONTROL_FLAG)) !== 0) return true;
    }
    if (length <= 0) return true;
    offset += BATCH_LOG_OVERHEAD + length;
  }
  return false;
}

/**
 * Produce: Topic Write per topic (29 per partition). A request holding transactional records
 * also needs TransactionalId Write (53 on every partition), as in KafkaApis.handleProduceRequest;
 * without them the transactional id is not checked, and without an id they are refused (53), as
 * Kafka refuses them. Before v3 every batch is looked at, not only the first (see
 * laterBatchIsTransactional), so the scanner, which cannot see batches, decides only from v3.
 * From v3 it checks the id whenever there is one: that never forwards what the rule would
 * refuse, it only sends more requests the long way.
 */
export const produceRule: ApiRule<ProduceRequest, ProduceResponse> = {
  scanChecks: { transactionalId: ['transactionalId', 'write'], 'topicData[].name': ['topic', 'write'] },
  scanChecksFrom: ONE_BATCH_PER_PARTITION_FROM,
  authorize(req, { access, version }) {
    const everyBatch = version < ONE_BATCH_PER_PARTITION_FROM;
    const transactional = req.topicData.some((t) =>
      t.partitionData.some((p) => firstBatchIsTransactional(p.records) || (everyBatch && laterBatchIsTransactional(p.records))),
    );
    if (transactional) {
      const refused = { action: 'answer' as const, response: { ...defaultProduceResponse(), responses: produceErrors(req.topicData, TRANSACTIONAL_ID_AUTHORIZATION_FAILED) } };
      if (req.transactionalId === null) {
        // No id to check, in any mode: the broker refuses such records too.
        access.refuse('transactionalId', '', 'write');
        return refused;
      }
      if (!access.check('transactionalId', req.transactionalId, 'write')) return refused;
    }
    const [allowed, denied] = partition(req.topicData, (t) => access.check('topic', t.name, 'write'));
    return denyEach(
      allowed,
      produceErrors(denied, TOPIC_AUTHORIZATION_FAILED),
      (responses) => ({ ...defaultProduceResponse(), responses }),
      (topicData) => ({ ...req, topicData }),
      (resp) => resp.responses,
    );
  },
};

import type { Reader } from '../protocol/reader.js';

/** The tag of ProduceResponse's NodeEndpoints (KIP-951), in its top-level tagged fields. */
const NODE_ENDPOINTS_TAG = 0;
/** index, errorCode, baseOffset, logAppendTimeMs, logStartOffset: fixed widths from v5. */
const PARTITION_FIXED_BYTES = 4 + 2 + 8 + 8 + 8;

/**
 * Whether a Produce response (v10 or later, flexible; the reader past the response header)
 * carries NodeEndpoints, found by walking it without building anything: brokers add them only
 * on a leader change, so nearly every response goes out as it came, and decoding each one in
 * full would cost an allocation per partition. Field order as in Kafka's ProduceResponse.json
 * (v10-v11).
 */
export function produceResponseHasNodeEndpoints(r: Reader): boolean {
  for (let topics = r.compactArrayLength(); topics > 0; topics--) {
    r.skipCompactString();
    for (let partitions = r.compactArrayLength(); partitions > 0; partitions--) {
      r.skip(PARTITION_FIXED_BYTES);
      for (let errors = r.compactArrayLength(); errors > 0; errors--) {
        r.skip(4);
        r.skipCompactString();
        r.skipTaggedFields();
      }
      r.skipCompactString();
      r.skipTaggedFields();
    }
    r.skipTaggedFields();
  }
  r.skip(4);
  for (let count = r.uvarint(); count > 0; count--) {
    const tag = r.uvarint();
    if (tag === NODE_ENDPOINTS_TAG) return true;
    r.skip(r.uvarint());
  }
  return false;
}

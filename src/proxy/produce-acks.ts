import { skipRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';

/**
 * The acks of a Produce request frame, read without decoding anything else: 0 means the broker
 * will not answer, so the proxy must not wait for a response.
 */
export function produceAcks(frame: Buffer, version: number): number {
  const r = new Reader(frame, 4);
  skipRequestHeader(r);
  if (version >= 3) {
    if (version >= 9) r.skipCompactString();
    else r.skipString();
  }
  return r.int16();
}

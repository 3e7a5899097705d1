import { ProtocolError } from '../protocol/errors.js';
import { API_KEYS } from '../protocol/generated/apis.js';
import { type FetchResponseFetchableTopicResponse, writeFetchResponseFetchableTopicResponse } from '../protocol/generated/messages/FetchResponse.js';
import { isFlexibleVersion, responseHeaderVersion } from '../protocol/header-versions.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import type { ResponseSplice } from './response-pipeline.js';

/** Header tagged fields are empty from brokers; anything past this is not a response to edit. */
const MAX_HEAD_BYTES = 4096;

/**
 * For a Fetch the proxy forwarded without its denied topics: adds the denied topics' error
 * entries at the front of the broker's topic list, rewriting only the size prefix and the list's
 * count. The record data behind them streams through untouched, so a partially denied fetch
 * costs no more memory than an allowed one. (Kafka lists refused partitions after the others;
 * clients read the list by topic and partition, and the end of a flexible response cannot be
 * found without parsing every record set, so the front it is.) A response with a top-level
 * error carries no topics and passes unchanged. The head read also tells the rule which fetch
 * session, if any, the broker opened.
 */
export function fetchDenialsSplice(
  version: number,
  denied: readonly FetchResponseFetchableTopicResponse[],
  /** Hears the fetch session id the answer gives (0 for none, or with a top-level error). */
  sessionOpened?: (sessionId: number) => void,
): ResponseSplice {
  const flexible = isFlexibleVersion(API_KEYS.Fetch, version);
  return {
    maxHeadBytes: MAX_HEAD_BYTES,
    edit(head, complete) {
      const r = new Reader(head);
      let countAt: number;
      let count: number;
      let errorCode = 0;
      let sessionId = 0;
      try {
        r.int32();
        r.int32();
        if (responseHeaderVersion(API_KEYS.Fetch, version) >= 1) r.skipTaggedFields();
        if (version >= 1) r.int32();
        if (version >= 7) {
          errorCode = r.int16();
          sessionId = r.int32();
        }
        countAt = r.pos;
        // Read the count itself: the list's elements are not here yet, so no check against what remains.
        count = flexible ? r.uvarint() - 1 : r.int32();
      } catch (e) {
        if (e instanceof ProtocolError && e.code === 'truncated' && !complete) return undefined;
        throw e;
      }
      sessionOpened?.(errorCode === 0 ? sessionId : 0);
      if (errorCode !== 0 || count < 0 || denied.length === 0) return { replacement: [], consumed: 0 };
      const w = new Writer(256);
      if (flexible) w.compactArrayLength(count + denied.length);
      else w.arrayLength(count + denied.length);
      for (const t of denied) writeFetchResponseFetchableTopicResponse(w, t, version);
      const inserted = w.toBuffer();
      const size = Buffer.alloc(4);
      size.writeInt32BE(head.readInt32BE(0) + inserted.length - (r.pos - countAt), 0);
      return { replacement: [size, head.subarray(4, countAt), inserted], consumed: r.pos };
    },
  };
}

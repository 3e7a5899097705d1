import {
  type FetchRequest,
  defaultFetchRequest,
  defaultFetchRequestFetchPartition,
  defaultFetchRequestFetchTopic,
} from '../../../src/protocol/generated/messages/FetchRequest.js';

/**
 * A Fetch of partition 0 of each topic (by name, or from v13 by id) from `fetchOffset`, up to
 * 1 MiB, answered at once; without a fetch session unless `sessionId` and `sessionEpoch` say.
 */
export function fetchPartitionZero(
  topics: { topic?: string; topicId?: string }[],
  session: { sessionId: number; sessionEpoch: number } = { sessionId: 0, sessionEpoch: -1 },
  fetchOffset = 0n,
): FetchRequest {
  return {
    ...defaultFetchRequest(),
    maxWaitMs: 10,
    minBytes: 0,
    maxBytes: 1 << 20,
    ...session,
    topics: topics.map((t) => ({
      ...defaultFetchRequestFetchTopic(),
      ...t,
      partitions: [{ ...defaultFetchRequestFetchPartition(), partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }],
    })),
  };
}

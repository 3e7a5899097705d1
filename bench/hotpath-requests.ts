import { API_KEYS } from '../src/protocol/generated/apis.js';
import { defaultFetchRequest, defaultFetchRequestFetchPartition, defaultFetchRequestFetchTopic } from '../src/protocol/generated/messages/FetchRequest.js';
import { defaultProduceRequest } from '../src/protocol/generated/messages/ProduceRequest.js';
import { requestFrame } from '../src/protocol/request-frame.js';

/** A topic as Produce and Fetch by name (its name) and Fetch from v13 (its id) refer to it. */
export interface BenchTopic {
  name: string;
  id: string;
}

/** `count` topics named "<prefix>0", "<prefix>1", ... with fixed ids. */
export function benchTopics(prefix: string, count: number): BenchTopic[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}${i}`, id: Buffer.alloc(16, i + 1).toString('base64url') }));
}

const frame = (apiKey: number, version: number, message: object): Buffer => requestFrame(apiKey, version, 42, 'bench-client', message);

/** A Produce request with a record batch of `batchBytes` (opaque to the proxy) on each of `partitions` partitions of every topic. */
export function multiTopicProduceFrame(version: number, topics: BenchTopic[], partitions: number, batchBytes: number): Buffer {
  const m = defaultProduceRequest();
  m.acks = -1;
  m.timeoutMs = 30_000;
  const records = Buffer.alloc(batchBytes, 0x61);
  m.topicData = topics.map((t) => ({
    name: t.name,
    partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records })),
    _unknownTaggedFields: undefined,
  }));
  return frame(API_KEYS.Produce, version, m);
}

/** A consumer's Fetch request for `partitions` partitions of every topic (by name below v13, by id from v13). */
export function multiTopicFetchFrame(version: number, topics: BenchTopic[], partitions: number): Buffer {
  const m = defaultFetchRequest();
  m.maxWaitMs = 500;
  m.minBytes = 1;
  m.maxBytes = 52_428_800;
  m.topics = topics.map((t) => {
    const topic = defaultFetchRequestFetchTopic();
    topic.topic = t.name;
    topic.topicId = t.id;
    topic.partitions = Array.from({ length: partitions }, (_, partition) => {
      const p = defaultFetchRequestFetchPartition();
      p.partition = partition;
      p.fetchOffset = 123_456n;
      p.partitionMaxBytes = 1_048_576;
      return p;
    });
    return topic;
  });
  return frame(API_KEYS.Fetch, version, m);
}

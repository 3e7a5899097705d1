import { defaultFetchRequest, defaultFetchRequestFetchTopic, defaultFetchRequestFetchPartition } from '../src/protocol/generated/messages/FetchRequest.js';
import { defaultProduceRequest } from '../src/protocol/generated/messages/ProduceRequest.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { requestFrame } from '../src/protocol/request-frame.js';

const frame = (apiKey: number, version: number, message: object): Buffer => requestFrame(apiKey, version, 42, 'bench-client', message);

/** A Produce request as the Java client sends it: one topic, `partitions` partitions of records. */
export function produceFrame(version: number, partitions: number, recordBytesTotal: number): Buffer {
  const m = defaultProduceRequest();
  m.acks = -1;
  m.timeoutMs = 30_000;
  const records = Buffer.alloc(Math.floor(recordBytesTotal / partitions), 0x61);
  m.topicData = [
    {
      name: 'orders.events',
      partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records })),
      _unknownTaggedFields: undefined,
    },
  ];
  return frame(API_KEYS.Produce, version, m);
}

/** A Fetch request for `partitions` partitions of one topic (by name below v13, by id from v13). */
export function fetchFrame(version: number, partitions: number): Buffer {
  const m = defaultFetchRequest();
  m.maxWaitMs = 500;
  m.minBytes = 1;
  m.maxBytes = 52_428_800;
  const topic = defaultFetchRequestFetchTopic();
  topic.topic = 'orders.events';
  topic.topicId = 'x8AIdAnFRymFd7bE3mQ6Ow';
  topic.partitions = Array.from({ length: partitions }, (_, partition) => {
    const p = defaultFetchRequestFetchPartition();
    p.partition = partition;
    p.fetchOffset = 123_456n;
    p.partitionMaxBytes = 1_048_576;
    return p;
  });
  m.topics = [topic];
  return frame(API_KEYS.Fetch, version, m);
}

import { defaultProduceRequest } from '../src/protocol/generated/messages/ProduceRequest.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { requestFrame } from '../src/protocol/request-frame.js';
import { multiTopicFetchFrame } from './hotpath-requests.js';

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
  return multiTopicFetchFrame(version, [{ name: 'orders.events', id: 'x8AIdAnFRymFd7bE3mQ6Ow' }], partitions);
}

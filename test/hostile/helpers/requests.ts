import { API_KEYS } from '../../../src/protocol/generated/apis.js';
import {
  defaultListOffsetsRequest,
  defaultListOffsetsRequestListOffsetsPartition,
  defaultListOffsetsRequestListOffsetsTopic,
} from '../../../src/protocol/generated/messages/ListOffsetsRequest.js';
import { defaultMetadataRequest } from '../../../src/protocol/generated/messages/MetadataRequest.js';
import type { PipelinedRequest } from './pipelined-client.js';

/** Latest offset of partition 0: forwarded when allowed (its answer passes through), answered by the proxy when denied. */
export const listOffsets = (topic: string): PipelinedRequest => ({
  apiKey: API_KEYS.ListOffsets,
  version: 7,
  body: {
    ...defaultListOffsetsRequest(),
    replicaId: -1,
    topics: [{ ...defaultListOffsetsRequestListOffsetsTopic(), name: topic, partitions: [{ ...defaultListOffsetsRequestListOffsetsPartition(), timestamp: -1n }] }],
  },
});

/** Metadata for every topic: the broker's answer is filtered and its addresses rewritten. */
export const allTopicsMetadata: PipelinedRequest = { apiKey: API_KEYS.Metadata, version: 12, body: { ...defaultMetadataRequest(), topics: null } };

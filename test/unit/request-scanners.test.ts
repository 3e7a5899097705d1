import { describe, expect, it } from 'vitest';
import type { ScannedEntity } from '../../src/protocol/entity-visitor.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { REQUEST_CODECS, REQUEST_SCANNERS } from '../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS } from '../../src/protocol/generated/schema.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { fetchFrame, produceFrame } from '../../bench/codec-requests.js';
import { type Entity, entitiesOf } from '../support/entities.js';
import { randomMessage } from '../support/random-message.js';
import { Rng } from '../support/rng.js';

function scan(apiKey: number, version: number, body: Buffer, offset = 0): { entities: Entity[]; remaining: number } {
  const entities: Entity[] = [];
  const r = new Reader(body, offset);
  REQUEST_SCANNERS[apiKey]!(r, version, (type: ScannedEntity, value, path) => entities.push([type, value, path]));
  return { entities, remaining: r.remaining };
}

describe('generated request scanners', () => {
  for (const schema of MESSAGE_SCHEMAS.filter((s) => s.type === 'request' && REQUEST_SCANNERS[s.apiKey])) {
    it(`${schema.name}: report exactly the entities a full decode finds, and consume the message`, () => {
      const rng = new Rng(1000 + schema.apiKey);
      for (let version = schema.validVersions[0]; version <= schema.validVersions[1]; version++) {
        for (let i = 0; i < 8; i++) {
          const w = new Writer();
          REQUEST_CODECS[schema.apiKey].write(w, randomMessage(schema, version, rng), version);
          const bytes = w.toBuffer();
          const decoded = REQUEST_CODECS[schema.apiKey].read(new Reader(bytes), version) as Record<string, unknown>;
          const { entities, remaining } = scan(schema.apiKey, version, bytes);
          expect(entities, `${schema.name} v${version}`).toEqual(entitiesOf(schema.fields, version, decoded));
          expect(remaining, `${schema.name} v${version}`).toBe(0);
        }
      }
    });
  }

  it('exist for the APIs that name topics, groups or transactional ids, and not for the others', () => {
    for (const key of [API_KEYS.Produce, API_KEYS.Fetch, API_KEYS.Metadata, API_KEYS.OffsetCommit, API_KEYS.JoinGroup, API_KEYS.EndTxn, API_KEYS.DeleteTopics]) {
      expect(REQUEST_SCANNERS[key], `API ${key}`).toBeTypeOf('function');
    }
    for (const key of [API_KEYS.ApiVersions, API_KEYS.SaslHandshake, API_KEYS.DescribeCluster]) {
      expect(REQUEST_SCANNERS[key], `API ${key}`).toBeUndefined();
    }
  });

  it('report a Produce request\'s topic without touching its records', () => {
    const frame = produceFrame(11, 3, 3000);
    const { entities } = scan(API_KEYS.Produce, 11, frame, 4 + 2 + 2 + 4 + 2 + 'bench-client'.length + 1);
    expect(entities).toEqual([['topicName', 'orders.events', 'topicData[].name']]);
  });

  it('report Fetch topics by id from v13 and tell forgotten topics apart by path', () => {
    const frame = fetchFrame(17, 2);
    const { entities } = scan(API_KEYS.Fetch, 17, frame, 4 + 2 + 2 + 4 + 2 + 'bench-client'.length + 1);
    expect(entities).toEqual([['topicId', 'x8AIdAnFRymFd7bE3mQ6Ow', 'topics[].topicId']]);
  });
});

import { describe, expect, it } from 'vitest';
import { API_KEYS, APIS } from '../../src/protocol/generated/apis.js';
import { REQUEST_ENTITY_FIELDS } from '../../src/protocol/generated/entity-fields.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/header-versions.js';
import { readRequestHeader, readResponseHeader, writeRequestHeader, writeResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

describe('header versions', () => {
  it('follow flexible versions, with the ApiVersions and ControlledShutdown exceptions', () => {
    expect(requestHeaderVersion(API_KEYS.Produce, 8)).toBe(1);
    expect(requestHeaderVersion(API_KEYS.Produce, 9)).toBe(2);
    expect(responseHeaderVersion(API_KEYS.Produce, 9)).toBe(1);
    expect(requestHeaderVersion(API_KEYS.ControlledShutdown, 0)).toBe(0);
    expect(requestHeaderVersion(API_KEYS.ControlledShutdown, 1)).toBe(1);
    expect(requestHeaderVersion(API_KEYS.ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(API_KEYS.ApiVersions, 3)).toBe(0);
  });

  it('treat a version above the highest known as flexible, as Kafka does for ApiVersions', () => {
    expect(requestHeaderVersion(API_KEYS.ApiVersions, 99)).toBe(2);
    expect(requestHeaderVersion(9999, 0)).toBe(1);
  });
});

describe('request header', () => {
  it('keeps client_id as a classic int16 string in header v2', () => {
    const w = new Writer();
    writeRequestHeader(w, { apiKey: API_KEYS.Metadata, apiVersion: 12, correlationId: 7, clientId: 'app', taggedFields: undefined });
    expect(w.toBuffer().toString('hex')).toBe('0003000c00000007' + '0003' + Buffer.from('app').toString('hex') + '00');
  });

  it('round-trips every header version, with unknown tagged fields kept', () => {
    for (const [apiKey, apiVersion] of [[API_KEYS.ControlledShutdown, 0], [API_KEYS.Produce, 3], [API_KEYS.Fetch, 13]]) {
      const tagged = apiVersion === 13 ? [{ tag: 5, data: Buffer.from([1, 2]) }] : undefined;
      const w = new Writer();
      writeRequestHeader(w, { apiKey, apiVersion, correlationId: 0x7ffffff8, clientId: 'c', taggedFields: tagged });
      const h = readRequestHeader(new Reader(w.toBuffer()));
      expect(h).toMatchObject({ apiKey, apiVersion, correlationId: 0x7ffffff8 });
      expect(h.clientId).toBe(apiKey === API_KEYS.ControlledShutdown ? null : 'c');
      expect(h.taggedFields).toEqual(tagged);
    }
  });

  it('response header carries tagged fields only when flexible, never for ApiVersions', () => {
    const encode = (apiKey: number, v: number) => {
      const w = new Writer();
      writeResponseHeader(w, apiKey, v, { correlationId: 1, taggedFields: undefined });
      return w.toBuffer();
    };
    expect(encode(API_KEYS.Metadata, 9).length).toBe(5);
    expect(encode(API_KEYS.Metadata, 8).length).toBe(4);
    expect(encode(API_KEYS.ApiVersions, 4).length).toBe(4);
    expect(readResponseHeader(new Reader(encode(API_KEYS.Metadata, 9)), API_KEYS.Metadata, 9).correlationId).toBe(1);
  });
});

describe('API table', () => {
  it('knows every API by key with its version ranges', () => {
    expect(APIS[API_KEYS.Produce]).toMatchObject({ name: 'Produce', minVersion: 0, maxVersion: 11, flexibleFrom: 9 });
    expect(APIS[API_KEYS.SaslHandshake]).toMatchObject({ name: 'SaslHandshake', flexibleFrom: -1 });
    expect(APIS.every((api, key) => api.apiKey === key)).toBe(true);
  });

  it('never offers versions the specs mark unstable', () => {
    expect(APIS[API_KEYS.ShareFetch]).toMatchObject({ maxVersion: 0, maxStableVersion: -1 });
    expect(APIS[API_KEYS.ShareGroupHeartbeat].maxStableVersion).toBe(-1);
    expect(APIS[API_KEYS.ListOffsets]).toMatchObject({ maxVersion: 9, maxStableVersion: 9 });
    expect(APIS[API_KEYS.Fetch].maxStableVersion).toBe(17);
  });
});

describe('entity fields', () => {
  const fieldsOf = (apiKey: number) => REQUEST_ENTITY_FIELDS[apiKey].map((f) => `${f.entityType}:${f.path}@${f.minVersion}-${f.maxVersion}`);

  it('names the topics and transactional id of a Produce request', () => {
    expect(fieldsOf(API_KEYS.Produce)).toEqual(['transactionalId:transactionalId@3-11', 'topicName:topicData[].name@0-11']);
  });

  it('knows Fetch names topics only before topic ids (v13)', () => {
    expect(fieldsOf(API_KEYS.Fetch)).toContain('topicName:topics[].topic@0-12');
  });

  it('names groups and transactional ids across the group and transaction APIs', () => {
    expect(fieldsOf(API_KEYS.JoinGroup)).toEqual(['groupId:groupId@0-9']);
    expect(fieldsOf(API_KEYS.TxnOffsetCommit)).toEqual(
      expect.arrayContaining(['transactionalId:transactionalId@0-4', 'groupId:groupId@0-4', 'topicName:topics[].name@0-4']),
    );
  });
});

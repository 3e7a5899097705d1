import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import type { ListOffsetsResponse } from '../../src/protocol/generated/messages/ListOffsetsResponse.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import { oauthListener, startTestIssuer } from '../integration/helpers/issuer.js';
import { type TestProxy, startTestProxy } from '../integration/helpers/proxy.js';
import { gs2 } from '../integration/helpers/raw-sasl.js';
import { createTopic } from '../integration/helpers/topics.js';
import { type PipelinedRequest, sendPipelined } from './helpers/pipelined-client.js';
import { allTopicsMetadata, listOffsets } from './helpers/requests.js';

const run = randomUUID().slice(0, 8);
const allowed = `reauth-ok-${run}`;
const secret = `reauth-secret-${run}`;

const POLICY = `
roles:
  tenant:
    - { topics: ["reauth-ok-*"], operations: [read, write] }
`;

const handshake: PipelinedRequest = { apiKey: API_KEYS.SaslHandshake, version: 1, body: { mechanism: 'OAUTHBEARER' } };
const authenticate = (token: string): PipelinedRequest => ({ apiKey: API_KEYS.SaslAuthenticate, version: 2, body: { authBytes: gs2(token) } });

describe('re-authentication in the middle of a pipeline', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    const replicas = inject('kafka').brokers.length;
    await createTopic({ topic: allowed, numPartitions: 1, replicationFactor: replicas });
    await createTopic({ topic: secret, numPartitions: 1, replicationFactor: replicas });
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { policy: POLICY }));
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it('answers every request in order when the whole session, re-authentication included, is sent in one write', async () => {
    const token = await issuer.mint({ subject: `svc-${run}`, roles: ['tenant'] });
    const work = (n: number) => Array.from({ length: n }, (_, i) => [listOffsets(allowed), listOffsets(secret), allTopicsMetadata][i % 3]);
    const requests = [handshake, authenticate(token), ...work(60), handshake, authenticate(token), ...work(60)];
    const responses = await sendPipelined(tp.bootstrapPort, requests, { slices: 11 });
    expect(responses.map((r) => r.correlationId)).toEqual(requests.map((_, i) => i + 1));
    for (const [i, r] of responses.entries()) {
      const request = requests[i];
      if (request.apiKey === API_KEYS.SaslAuthenticate) expect((r.body as SaslAuthenticateResponse).errorCode).toBe(0);
      if (request.apiKey === API_KEYS.Metadata) expect((r.body as MetadataResponse).topics.map((t) => t.name)).toEqual([allowed]);
      if (request.apiKey === API_KEYS.ListOffsets) {
        const topic = (r.body as ListOffsetsResponse).topics[0];
        expect(topic.partitions[0].errorCode === 29, `response ${i + 1} for ${topic.name}`).toBe(topic.name === secret);
      }
    }
  });

  it('a re-authentication as another principal fails and ends the connection after the answers owed before it', async () => {
    const token = await issuer.mint({ subject: `svc-a-${run}`, roles: ['tenant'] });
    const other = await issuer.mint({ subject: `svc-b-${run}`, roles: ['tenant'] });
    const requests = [handshake, authenticate(token), listOffsets(allowed), allTopicsMetadata, handshake, authenticate(other), allTopicsMetadata];
    const responses = await sendPipelined(tp.bootstrapPort, requests, { closes: true });
    expect(responses.map((r) => r.correlationId)).toEqual([1, 2, 3, 4, 5, 6]);
    const refused = responses[5].body as SaslAuthenticateResponse;
    expect(refused.errorCode).toBe(58);
    expect(refused.errorMessage).toMatch(/Cannot change principals during re-authentication/);
  });
});

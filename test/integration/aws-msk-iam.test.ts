import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { amzDate } from '../support/amz-date.js';
import { type SignParams, bytes, mskIamPayload } from '../support/aws-sign.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { kafkajsRoundTrip } from './helpers/kafkajs-round-trip.js';
import { createTopic } from './helpers/topics.js';

const KEY = 'AKIAPROXYTEST0001';
const SECRET = 'proxy-test-secret-0001/abcdefghij';
const REGION = 'us-east-1';

function credentialsYaml(extra = ''): string {
  return `accessKeys:\n  ${KEY}:\n    secretAccessKey: ${SECRET}\n    principal: User:alice\n    roles: [orders-writer]\n${extra}`;
}

/** SaslHandshake AWS_MSK_IAM + SaslAuthenticate with the given payload fields, on a raw connection. */
async function authenticate(tp: TestProxy, params: SignParams): Promise<{ conn: KafkaConnection; res: SaslAuthenticateResponse }> {
  const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
  const hs = await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'AWS_MSK_IAM' });
  expect(hs.body.errorCode).toBe(0);
  const payload = mskIamPayload({ accessKeyId: KEY, secret: SECRET, date: amzDate(), host: '127.0.0.1', region: REGION, ...params });
  const res = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: bytes(payload) });
  return { conn, res: res.body };
}

describe('AWS_MSK_IAM', () => {
  let tp: TestProxy;
  let credentialsFile: string;

  beforeAll(async () => {
    credentialsFile = join(mkdtempSync(join(tmpdir(), 'aws-creds-')), 'credentials.yaml');
    writeFileSync(credentialsFile, credentialsYaml());
    tp = await startTestProxy({ authentication: ['AWS_MSK_IAM', 'OAUTHBEARER'], awsMskIam: { region: REGION, credentialsFile } });
  });

  afterAll(async () => {
    await tp?.stop();
  });

  it('accepts a correctly signed payload, answers as MSK does, and serves the client', async () => {
    const { conn, res } = await authenticate(tp, {});
    expect(res.errorCode).toBe(0);
    expect(JSON.parse(res.authBytes.toString())).toMatchObject({ version: '2020_10_22', 'request-id': expect.any(String) });
    const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] });
    expect(md.body.brokers).toHaveLength(3);
    conn.close();
    expect(tp.logs.some((l) => l.msg === 'authenticated' && l.principal === 'User:alice' && l.mechanism === 'AWS_MSK_IAM')).toBe(true);
  });

  it('refuses bad payloads with a message that says what was wrong, never a secret', async () => {
    const cases: [string, SignParams, RegExp][] = [
      ['unknown key', { accessKeyId: 'AKIAUNKNOWN0000001' }, /unknown access key id AKIAUNKNOWN0000001/],
      ['wrong secret', { secret: 'not-the-right-secret-000000' }, /signature does not match/],
      ['expired', { date: amzDate(-3_600_000), expires: '900' }, /signature expired/],
      ['from the future', { date: amzDate(3_600_000) }, /in the future/],
      ['wrong region', { region: 'eu-west-1' }, /region eu-west-1/],
      ['wrong host', { host: 'b-1.elsewhere.example' }, /signed host/],
      ['unexpected session token', { securityToken: 'IQoJb3JpZ2luX2VjEXAMPLE' }, /session token not expected/],
    ];
    for (const [name, params, reason] of cases) {
      const { conn, res } = await authenticate(tp, params);
      expect(res.errorCode, name).toBe(58);
      expect(res.errorMessage, name).toMatch(reason);
      expect(res.errorMessage, name).not.toContain(SECRET);
      conn.close();
    }
  });

  it('kafkajs with aws-msk-iam-sasl-signer-js over OAUTHBEARER produces and consumes', async () => {
    process.env.AWS_ACCESS_KEY_ID = KEY;
    process.env.AWS_SECRET_ACCESS_KEY = SECRET;
    const topic = `aws-kafkajs-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 2, replicationFactor: 3 });
    const kafka = new Kafka({
      clientId: 'aws-kafkajs',
      brokers: [tp.bootstrap],
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region: REGION })).token }) },
    });
    await kafkajsRoundTrip(kafka, topic, 10);
    expect(tp.logs.some((l) => l.msg === 'authenticated' && l.principal === 'User:alice' && l.mechanism === 'OAUTHBEARER')).toBe(true);
  });

  it('picks up a changed credentials file without a restart, and keeps the old keys when it is broken', async () => {
    const NEW_KEY = 'AKIAPROXYTEST0002';
    writeFileSync(credentialsFile, `${credentialsYaml()}  ${NEW_KEY}:\n    secretAccessKey: second-secret-0002-abcdefgh\n    principal: User:bob\n`);
    await tp.proxy.reload();
    const { conn, res } = await authenticate(tp, { accessKeyId: NEW_KEY, secret: 'second-secret-0002-abcdefgh' });
    expect(res.errorCode).toBe(0);
    conn.close();
    writeFileSync(credentialsFile, 'accessKeys: [not, a, map]\n');
    await tp.proxy.reload();
    const again = await authenticate(tp, { accessKeyId: NEW_KEY, secret: 'second-secret-0002-abcdefgh' });
    expect(again.res.errorCode).toBe(0);
    again.conn.close();
    const warning = tp.logs.find((l) => l.level === 'warn' && l.component === 'aws-credentials');
    expect(warning).toBeDefined();
    expect(JSON.stringify(warning)).not.toContain('second-secret');
  });
});

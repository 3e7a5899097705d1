import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { authenticate, gs2 } from './helpers/raw-sasl.js';

const metadata = (conn: KafkaConnection) => conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] });

describe('OAUTHBEARER sessions (KIP-368)', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { oauthbearer: { maxSessionSeconds: 3600 } }));
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it('closes, without an answer, the first request after the session expired', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    const lifetime = await authenticate(conn, await issuer.mint({ subject: 'short-lived', expiresInSeconds: 3 }));
    expect(Number(lifetime)).toBeGreaterThan(1000);
    expect(Number(lifetime)).toBeLessThanOrEqual(3000);
    expect((await metadata(conn)).body.brokers).toHaveLength(3);
    await new Promise((r) => setTimeout(r, Number(lifetime) + 200));
    await expect(metadata(conn)).rejects.toThrow(/closed/);
    expect(tp.logs.some((l) => l.msg === 'session expired without re-authentication' && l.principal === 'short-lived')).toBe(true);
  });

  it('extends the session when the client re-authenticates on the live connection', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    await authenticate(conn, await issuer.mint({ subject: 'renewer', expiresInSeconds: 3 }));
    await new Promise((r) => setTimeout(r, 1500));
    const renewed = await authenticate(conn, await issuer.mint({ subject: 'renewer', expiresInSeconds: 60 }));
    expect(Number(renewed)).toBeGreaterThan(50_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await metadata(conn)).body.brokers).toHaveLength(3);
    expect(tp.logs.some((l) => l.msg === 'authenticated' && l.reauthentication === true && l.principal === 'renewer')).toBe(true);
    conn.close();
  });

  it('refuses a re-authentication as a different principal', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    await authenticate(conn, await issuer.mint({ subject: 'first' }));
    await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    const res = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: gs2(await issuer.mint({ subject: 'second' })) });
    expect(res.body.errorCode).toBe(58);
    expect(res.body.errorMessage).toContain('Cannot change principals during re-authentication from first');
    await expect(metadata(conn)).rejects.toThrow(/closed/);
  });

  it('limits frames before authentication to the unauthenticated maximum', async () => {
    const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
    await expect(conn.sendRaw(API_KEYS.SaslHandshake, 1, Buffer.alloc(600 * 1024))).rejects.toThrow(/closed|ECONNRESET/);
    expect(tp.logs.some((l) => typeof l.err === 'string' && l.err.includes('exceeds the limit of 524288'))).toBe(true);
  });
});

import { expect } from 'vitest';
import { API_KEYS } from '../../../src/protocol/generated/apis.js';
import type { SaslAuthenticateResponse } from '../../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../../src/proxy/kafka-connection.js';

export const gs2 = (token: string) => Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`);

/** Authenticates a raw connection with SaslHandshake v1 + SaslAuthenticate v2; returns the session lifetime. */
export async function authenticate(conn: KafkaConnection, token: string): Promise<bigint> {
  const hs = await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
  expect(hs.body.errorCode).toBe(0);
  const auth = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: gs2(token) });
  expect(auth.body).toMatchObject({ errorCode: 0, errorMessage: null });
  return auth.body.sessionLifetimeMs;
}

/** A raw connection to a proxy port, authenticated with `token`. */
export async function authenticatedConnection(port: number, token: string): Promise<KafkaConnection> {
  const conn = await KafkaConnection.connect('127.0.0.1', port);
  await authenticate(conn, token);
  return conn;
}

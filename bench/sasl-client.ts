import { API_KEYS } from '../src/protocol/generated/apis.js';
import type { SaslAuthenticateResponse } from '../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { KafkaConnection } from '../src/proxy/kafka-connection.js';

/** The OAUTHBEARER client message (RFC 7628) carrying `token`, as Kafka clients send it. */
export function oauthBearerMessage(token: string): Buffer {
  return Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`);
}

/** The SASL exchange a bench client makes on a new connection (SaslHandshake v1, SaslAuthenticate v2); throws if it is refused. */
export async function authenticate(conn: KafkaConnection, mechanism: string, authBytes: Buffer): Promise<void> {
  await conn.request(API_KEYS.SaslHandshake, 1, { mechanism });
  const auth = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes });
  if (auth.body.errorCode !== 0) throw new Error(`${mechanism} authentication failed: ${auth.body.errorMessage}`);
}

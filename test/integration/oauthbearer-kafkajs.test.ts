import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import {
  type TestKey,
  claimsFor,
  createTestKey,
  foreignKeyToken,
  hmacWithPublicKeyToken,
  signToken,
  unknownKidToken,
  unsignedToken,
} from '../support/forged-tokens.js';
import { JwksServer } from '../support/jwks-server.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { kafkajsRoundTrip } from './helpers/kafkajs-round-trip.js';
import { createTopic } from './helpers/topics.js';

/** `retries: 0` for refusal checks, so an authentication error surfaces at once. */
function kafkaWithToken(tp: TestProxy, token: () => Promise<string> | string, retries?: number): Kafka {
  return new Kafka({
    clientId: 'oauth-kafkajs',
    brokers: [tp.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: retries === undefined ? undefined : { retries },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token() }) },
  });
}

async function authError(tp: TestProxy, token: string): Promise<string> {
  const admin = kafkaWithToken(tp, () => token, 0).admin();
  try {
    await admin.connect();
    await admin.listTopics();
  } catch (e) {
    return (e as Error).message;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  return 'no error';
}

describe('OAUTHBEARER with kafkajs', () => {
  let issuer: DevIssuer;
  let tp: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    tp = await startTestProxy(oauthListener(issuer, { oauthbearer: { jwksUnknownKidRefreshSeconds: 1 } }));
  });

  afterAll(async () => {
    await tp?.stop();
    await issuer?.stop();
  });

  it('authenticates with a valid token, then produces and consumes through the proxy', async () => {
    const topic = `oauth-kafkajs-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 3, replicationFactor: 3 });
    const kafka = kafkaWithToken(tp, () => issuer.mint({ subject: 'alice', roles: ['orders-writer'] }));
    await kafkajsRoundTrip(kafka, topic, 20);
    const success = tp.logs.find((l) => l.msg === 'authenticated');
    expect(success).toMatchObject({ principal: 'alice', mechanism: 'OAUTHBEARER' });
  });

  describe('bad tokens', () => {
    const ISSUER = 'https://issuer.test';
    let key: TestKey;
    let jwks: JwksServer;
    let strict: TestProxy;

    beforeAll(async () => {
      key = await createTestKey('ES256');
      jwks = await JwksServer.start([key.publicJwk]);
      strict = await startTestProxy({ authentication: ['OAUTHBEARER'], oauthbearer: { jwksUrl: jwks.url, issuer: ISSUER } });
    });

    afterAll(async () => {
      await strict?.stop();
      await jwks?.close();
    });

    const claims = (extra: Record<string, unknown> = {}, expiresIn?: number) => claimsFor({ issuer: ISSUER, audience: 'kafka', subject: 'bob', expiresIn, extra });

    it('are refused, each with a clear authentication error naming the reason', async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, Promise<string> | string, RegExp][] = [
        ['valid (control)', signToken(key, claims()), /^no error$/],
        ['bad signature', foreignKeyToken(key, claims()), /signature verification failed/],
        ['expired', signToken(key, claims({}, -600)), /expired/],
        ['not yet valid', signToken(key, claims({ nbf: now + 3600 })), /not (yet )?valid|nbf/i],
        ['wrong issuer', signToken(key, claims({ iss: 'https://evil.example' })), /issuer/],
        ['wrong audience', signToken(key, claims({ aud: 'other' })), /audience/],
        ['alg none', unsignedToken(claims(), key.kid), /algorithm none is not allowed/],
        ['HMAC with the public key', hmacWithPublicKeyToken(key, claims()), /algorithm HS256 is not allowed/],
        ['unknown kid', unknownKidToken(key, claims()), /kid/],
        ['missing principal claim', signToken(key, claims({ sub: undefined })), /sub/],
      ];
      for (const [name, token, reason] of cases) {
        const message = await authError(strict, await token);
        expect(message, name).toMatch(reason);
        if (name !== 'valid (control)') expect(message, name).toMatch(/SASL|[Aa]uthentication/);
      }
      const failures = strict.logs.filter((l) => l.msg === 'authentication failed');
      expect(failures).toHaveLength(cases.length - 1);
      for (const f of failures) expect(JSON.stringify(f)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    });

    it('a malformed GS2 message is refused too', async () => {
      const kafka = new Kafka({
        clientId: 'gs2-test',
        brokers: [strict.bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        // kafkajs builds the GS2 message itself; a token with a space breaks the auth= value.
        sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'not a token' }) },
      });
      const admin = kafka.admin();
      await expect(admin.connect()).rejects.toThrow(/invalid OAUTHBEARER client first message/);
    });
  });

  it('accepts tokens signed with a rotated key without a restart', async () => {
    const before = issuer.mint({ subject: 'carol' });
    // Early refreshes are rate-limited (here to one a second).
    await new Promise((r) => setTimeout(r, 1100));
    await issuer.rotateKey();
    const after = await issuer.mint({ subject: 'carol' });
    expect(await authError(tp, await before)).toBe('no error');
    expect(await authError(tp, after)).toBe('no error');
  });

  it('gives a client that skips the SASL handshake no data: the connection is closed', async () => {
    const closed = await new Promise<number>((resolve) => {
      let received = 0;
      const socket = connect({ host: '127.0.0.1', port: tp.bootstrapPort }, () => {
        // A Metadata v1 request with no topics, sent without authenticating.
        socket.write(Buffer.from('0000000f000300010000000700017800000000', 'hex'));
      });
      socket.on('data', (d) => (received += d.length));
      socket.on('close', () => resolve(received));
      socket.on('error', () => {});
    });
    expect(closed).toBe(0);
  });
});

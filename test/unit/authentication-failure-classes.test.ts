import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthenticationFailure } from '../../src/auth/authentication-failure.js';
import { OAuthTokenValidator } from '../../src/auth/oauth-validator.js';
import { createLogger } from '../../src/observe/logger.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { AwsMskIamMechanism } from '../../src/sasl/aws-msk-iam.js';
import { AuthenticationFailed, type SaslMechanism } from '../../src/sasl/mechanism.js';
import { OAuthBearerMechanism } from '../../src/sasl/oauthbearer.js';
import { SaslServer } from '../../src/sasl/sasl-server.js';
import { PROXY_HOST, SIGNED_AT_MS, type SignParams, bytes, credential, iamToken, mskIamPayload, storeOf } from '../support/aws-sign.js';
import {
  type ClaimOptions,
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

const ISSUER = 'https://issuer.test';
const gs2 = (token: string) => Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`);

/** The class a mechanism gives its refusal of `message` (the label of kafka_proxy_authentication_failures_total). */
async function failureOf(mechanism: SaslMechanism, message: Buffer): Promise<AuthenticationFailure> {
  const error = await mechanism.authenticate(message).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationFailed);
  return (error as AuthenticationFailed).failure;
}

describe('authentication failure classes: OAUTHBEARER with JWTs', () => {
  let key: TestKey;
  let server: JwksServer;
  let validator: OAuthTokenValidator;
  let mechanism: OAuthBearerMechanism;
  const claims = (options: Partial<ClaimOptions> = {}) => claimsFor({ issuer: ISSUER, audience: 'kafka', ...options });

  beforeAll(async () => {
    key = await createTestKey('RS256', 'main-key');
    server = await JwksServer.start([key.publicJwk]);
    validator = new OAuthTokenValidator(
      { jwksUrl: server.url, issuer: ISSUER, audience: ['kafka'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30 },
      createLogger('silent'),
    );
    await validator.start();
    mechanism = new OAuthBearerMechanism(validator, undefined);
  });
  afterAll(async () => {
    validator.stop();
    await server.close();
  });

  it.each<[string, () => Promise<string>, AuthenticationFailure]>([
    ['an expired token', () => signToken(key, claims({ expiresIn: -120 })), 'expired'],
    ['a token not valid yet', () => signToken(key, claims({ extra: { nbf: Math.floor(Date.now() / 1000) + 600 } })), 'not-yet-valid'],
    ['a token signed by another key under the trusted kid', () => foreignKeyToken(key, claims()), 'bad-signature'],
    ['an unsigned token (alg none)', async () => unsignedToken(claims(), key.kid), 'bad-signature'],
    ['an HMAC token keyed with the public key', () => hmacWithPublicKeyToken(key, claims()), 'bad-signature'],
    ['a kid the JWKS does not have', () => unknownKidToken(key, claims()), 'unknown-key'],
    ['another audience', () => signToken(key, claims({ audience: 'billing' })), 'wrong-audience'],
    ['another issuer', () => signToken(key, { ...claims(), iss: 'https://elsewhere.test' }), 'wrong-issuer'],
    ['no principal claim', () => signToken(key, claims({ extra: { sub: undefined } })), 'missing-claim'],
    ['no exp claim', () => signToken(key, claims({ extra: { exp: undefined } })), 'missing-claim'],
    ['not a JWT', async () => 'not-a-jwt', 'malformed'],
  ])('%s', async (_name, token, expected) => {
    expect(await failureOf(mechanism, gs2(await token()))).toBe(expected);
  });

  it('a message that is not a GS2 OAUTHBEARER message is malformed', async () => {
    expect(await failureOf(mechanism, Buffer.from('hello'))).toBe('malformed');
  });

  it('tells a JWKS it cannot load from a kid it does not have', async () => {
    const offline = new OAuthTokenValidator(
      { jwksUrl: 'http://127.0.0.1:9/jwks.json', issuer: ISSUER, audience: ['kafka'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30 },
      createLogger('silent'),
      { fetchTimeoutMs: 500, retryInitialDelayMs: 60_000 },
    );
    await offline.start();
    try {
      expect(await failureOf(new OAuthBearerMechanism(offline, undefined), gs2(await signToken(key, claims())))).toBe('jwks-unavailable');
    } finally {
      offline.stop();
    }
  });

  it('an IAM token where no awsMskIam is configured is a credential kind the listener does not accept', async () => {
    expect(await failureOf(mechanism, gs2(iamToken()))).toBe('unsupported-mechanism');
  });
});

describe('authentication failure classes: AWS_MSK_IAM', () => {
  const mechanism = (now = SIGNED_AT_MS + 60_000, credentialExpiresAtMs = SIGNED_AT_MS + 3_600_000) =>
    new AwsMskIamMechanism(storeOf(credential({ expiresAtMs: credentialExpiresAtMs })), { region: 'us-east-1', allowsHost: (host) => host === PROXY_HOST, now: () => now });

  it.each<[string, SignParams, AuthenticationFailure]>([
    ['an access key the proxy does not know', { accessKeyId: 'AKIAUNKNOWN0000001' }, 'unknown-access-key'],
    ['a wrong secret', { secret: 'not-the-right-secret-000000' }, 'signature-mismatch'],
    ['an unexpected session token', { securityToken: 'IQoJb3JpZ2luX2VjEXAMPLE' }, 'signature-mismatch'],
    ['another region', { region: 'eu-west-1' }, 'wrong-region'],
    ['another host', { host: 'b-1.elsewhere.example' }, 'wrong-host'],
    ['an expiry that is not a number', { expires: 'soon' }, 'malformed'],
  ])('%s', async (_name, params, expected) => {
    expect(await failureOf(mechanism(), bytes(mskIamPayload(params)))).toBe(expected);
  });

  it('tells an expired signature, a signature from the future and an expired stored credential apart', async () => {
    expect(await failureOf(mechanism(SIGNED_AT_MS + 3_600_000), bytes(mskIamPayload()))).toBe('expired');
    expect(await failureOf(mechanism(SIGNED_AT_MS - 3_600_000), bytes(mskIamPayload()))).toBe('clock-skew');
    expect(await failureOf(mechanism(SIGNED_AT_MS + 60_000, SIGNED_AT_MS + 30_000), bytes(mskIamPayload()))).toBe('expired');
  });

  it('a payload that is not JSON is malformed', async () => {
    expect(await failureOf(mechanism(), Buffer.from('{'))).toBe('malformed');
  });
});

describe('authentication failure classes: the SASL exchange', () => {
  let correlation = 0;
  const request = (apiKey: number, version: number, body: object) => requestFrame(apiKey, version, ++correlation, 'unit', body);
  const never: SaslMechanism = {
    name: 'OAUTHBEARER',
    authenticate: () => Promise.reject(new Error('not reached')),
  };

  it('a mechanism the listener does not offer', async () => {
    const step = await new SaslServer([never], 0).handle(request(API_KEYS.SaslHandshake, 1, { mechanism: 'PLAIN' }));
    expect(step).toMatchObject({ kind: 'fail', failure: 'unsupported-mechanism' });
    // The client's name for it is not one of the listener's: it never becomes a label.
    expect(step).not.toHaveProperty('mechanism');
  });

  it('a request before the handshake', async () => {
    const step = await new SaslServer([never], 0).handle(request(API_KEYS.Metadata, 9, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
    expect(step).toMatchObject({ kind: 'fail', failure: 'illegal-state' });
  });

  it('another request where SaslAuthenticate is due names the chosen mechanism', async () => {
    const sasl = new SaslServer([never], 0);
    await sasl.handle(request(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' }));
    const step = await sasl.handle(request(API_KEYS.Metadata, 9, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
    expect(step).toMatchObject({ kind: 'fail', failure: 'illegal-state', mechanism: 'OAUTHBEARER' });
  });
});

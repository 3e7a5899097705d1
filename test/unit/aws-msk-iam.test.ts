import { describe, expect, it } from 'vitest';
import type { CredentialLookup } from '../../src/auth/aws/credential-store.js';
import { AccessKeyCheck } from '../../src/auth/aws/access-key-check.js';
import { AwsMskIamMechanism, type AwsMskIamSettings } from '../../src/sasl/aws-msk-iam.js';
import { AuthenticationFailed } from '../../src/sasl/mechanism.js';
import { ACCESS_KEY_ID, PROXY_HOST, SECRET, SESSION_TOKEN, SIGNED_AT_MS, bytes, credential, mskIamPayload, storeOf } from '../support/aws-sign.js';

const MINUTE = 60_000;

function mechanism(store: CredentialLookup = storeOf(credential()), settings: Partial<AwsMskIamSettings> = {}) {
  return new AwsMskIamMechanism(store, {
    region: 'us-east-1',
    allowsHost: (host) => [PROXY_HOST, 'kafka-proxy.internal'].includes(host),
    now: () => SIGNED_AT_MS + MINUTE,
    ...settings,
  });
}

async function failure(payload: Buffer, store?: CredentialLookup, settings?: Partial<AwsMskIamSettings>): Promise<string> {
  const error = await mechanism(store, settings).authenticate(payload).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationFailed);
  const message = (error as Error).message;
  // No refusal ever carries a secret, a session token or the expected signature.
  expect(message).not.toContain(SECRET);
  expect(message).not.toContain(SESSION_TOKEN);
  expect(message).not.toMatch(/[0-9a-f]{64}/);
  return message;
}

describe('AWS_MSK_IAM: accepted', () => {
  it('vector A authenticates as the stored principal and answers with the version and a request id', async () => {
    const payload = mskIamPayload();
    expect(payload['x-amz-signature']).toBe('5e09b5ab91a0727b2b7adcff3e3d5909bbd8ebfc06feaf7e9bfcff514a674c61');
    const { identity, reply } = await mechanism().authenticate(bytes(payload));
    expect(identity).toEqual({ principal: 'User:alice', roles: ['producer'], mechanism: 'AWS_MSK_IAM', expiresAtMs: null, credential: expect.any(AccessKeyCheck) });
    const answer = JSON.parse(reply.toString('utf8'));
    expect(Object.keys(answer)).toEqual(['version', 'request-id']);
    expect(answer.version).toBe('2020_10_22');
    expect(answer['request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('the session lasts until the stored credential expires', async () => {
    const expiresAtMs = SIGNED_AT_MS + 60 * MINUTE;
    const { identity } = await mechanism(storeOf(credential({ expiresAtMs }))).authenticate(bytes(mskIamPayload()));
    expect(identity.expiresAtMs).toBe(expiresAtMs);
  });

  it('a session token bound to the key is accepted when the client signs with it', async () => {
    const store = storeOf(credential({ sessionToken: SESSION_TOKEN }));
    const { identity } = await mechanism(store).authenticate(bytes(mskIamPayload({ securityToken: SESSION_TOKEN })));
    expect(identity.principal).toBe('User:alice');
  });

  it('the host is compared without regard to case, and the signature covers it as sent', async () => {
    await expect(mechanism().authenticate(bytes(mskIamPayload({ host: 'KAFKA-PROXY.internal' })))).resolves.toBeDefined();
  });

  it('accepts a signature up to the clock skew past its expiry, and a date up to the skew in the future', async () => {
    const payload = bytes(mskIamPayload());
    await expect(mechanism(undefined, { now: () => SIGNED_AT_MS + 15 * MINUTE + 5 * MINUTE }).authenticate(payload)).resolves.toBeDefined();
    await expect(mechanism(undefined, { now: () => SIGNED_AT_MS - 5 * MINUTE }).authenticate(payload)).resolves.toBeDefined();
  });

  // Made by franz-go v1.22.2's sasl/aws (AWS_REGION=us-east-1, dialing b-1.proxy.example.com:19092), byte for byte.
  const franzGoAt = Date.UTC(2026, 10, 22, 14, 0, 49);
  const franzGo =
    '{"action":"kafka-cluster:Connect","host":"b-1.proxy.example.com","user-agent":"franz-go/test","version":"2020_10_22",' +
    '"x-amz-algorithm":"AWS4-HMAC-SHA256","x-amz-credential":"AKIDEXAMPLE/20261122/us-east-1/kafka-cluster/aws4_request",' +
    '"x-amz-date":"20261122T140049Z","x-amz-expires":"300",' +
    '"x-amz-signature":"9c4d7fc5e25b5b6932658b2c19ce05cd907ec87fb4a83c48cb9af697955dd13f","x-amz-signedheaders":"host"}';
  const franzGoWithToken =
    '{"action":"kafka-cluster:Connect","host":"b-1.proxy.example.com","user-agent":"franz-go/test","version":"2020_10_22",' +
    '"x-amz-algorithm":"AWS4-HMAC-SHA256","x-amz-credential":"AKIDEXAMPLE/20261122/us-east-1/kafka-cluster/aws4_request",' +
    '"x-amz-date":"20261122T140049Z","x-amz-expires":"300","x-amz-security-token":"IQoJb3JpZ2luX2VjEXAMPLE/SESSION+TOKEN=",' +
    '"x-amz-signature":"18076a26bee96afe7f61bf3067320ee64b196f9bd54f4797db7ae366ee9335b4","x-amz-signedheaders":"host"}';

  it('verifies payloads made by franz-go, with and without a session token', async () => {
    const now = () => franzGoAt + MINUTE;
    await expect(mechanism(undefined, { now }).authenticate(Buffer.from(franzGo))).resolves.toBeDefined();
    const store = storeOf(credential({ sessionToken: SESSION_TOKEN }));
    await expect(mechanism(store, { now }).authenticate(Buffer.from(franzGoWithToken))).resolves.toBeDefined();
    // franz-go signs for 300 s.
    expect(await failure(Buffer.from(franzGo), undefined, { now: () => franzGoAt + 10 * MINUTE + 1 })).toBe('signature expired at 2026-11-22T14:05:49.000Z');
  });
});

describe('AWS_MSK_IAM: refused', () => {
  const payloadWith = (fields: Record<string, unknown>) => bytes({ ...mskIamPayload(), ...fields });

  it.each([
    ['an oversized payload', Buffer.alloc(16 * 1024 + 1, 0x20), 'invalid AWS_MSK_IAM payload: larger than 16384 bytes'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid AWS_MSK_IAM payload: not UTF-8 JSON'],
    ['text that is not JSON', Buffer.from('version=2020_10_22'), 'invalid AWS_MSK_IAM payload: not UTF-8 JSON'],
    ['a JSON array', bytes([mskIamPayload()]), 'invalid AWS_MSK_IAM payload: not a JSON object'],
    ['JSON null', bytes(null), 'invalid AWS_MSK_IAM payload: not a JSON object'],
    ['a value that is not a string', payloadWith({ 'x-amz-expires': 900 }), 'invalid AWS_MSK_IAM payload: "x-amz-expires" is not a string'],
    ['a nested object', payloadWith({ 'user-agent': { name: 'x' } }), 'invalid AWS_MSK_IAM payload: "user-agent" is not a string'],
    ['a missing field', bytes({ ...mskIamPayload(), 'x-amz-date': undefined }), 'invalid AWS_MSK_IAM payload: "x-amz-date" is missing'],
    ['another version', payloadWith({ version: '2021_01_01' }), 'invalid AWS_MSK_IAM payload: version "2021_01_01" is not "2020_10_22"'],
    ['another action', payloadWith({ action: 'kafka-cluster:*' }), 'action "kafka-cluster:*" is not "kafka-cluster:Connect"'],
    ['another algorithm', payloadWith({ 'x-amz-algorithm': 'AWS4-ECDSA-P256-SHA256' }), 'x-amz-algorithm "AWS4-ECDSA-P256-SHA256" is not "AWS4-HMAC-SHA256"'],
    ['more signed headers', payloadWith({ 'x-amz-signedheaders': 'host;x-amz-date' }), 'x-amz-signedheaders "host;x-amz-date" is not "host"'],
    ['a date in another format', payloadWith({ 'x-amz-date': '2024-01-15T12:00:00Z' }), 'x-amz-date "2024-01-15T12:00:00Z" is not a yyyyMMddTHHmmssZ date'],
    ['a date that does not exist', payloadWith({ 'x-amz-date': '20240231T120000Z' }), 'x-amz-date "20240231T120000Z" is not a yyyyMMddTHHmmssZ date'],
  ])('%s', async (_name, payload, reason) => {
    expect(await failure(payload)).toBe(reason);
  });

  const scopeShape = 'x-amz-credential is not "<access key id>/<yyyyMMdd>/<region>/kafka-cluster/aws4_request"';
  it.each([
    ['four parts', 'AKIDEXAMPLE/20240115/us-east-1/kafka-cluster', scopeShape],
    ['six parts', 'AKIDEXAMPLE/20240115/us-east-1/kafka-cluster/aws4_request/x', scopeShape],
    ['another service', 'AKIDEXAMPLE/20240115/us-east-1/kafka/aws4_request', scopeShape],
    ['another terminal', 'AKIDEXAMPLE/20240115/us-east-1/kafka-cluster/aws4', scopeShape],
    ['a key id with odd characters', 'AKID EXAMPLE/20240115/us-east-1/kafka-cluster/aws4_request', scopeShape],
    ['a day other than x-amz-date\'s', 'AKIDEXAMPLE/20240116/us-east-1/kafka-cluster/aws4_request', 'credential date 20240116 is not the day of x-amz-date 20240115T120000Z'],
    ['the wrong region', 'AKIDEXAMPLE/20240115/eu-west-1/kafka-cluster/aws4_request', "credential region eu-west-1 is not this proxy's region us-east-1"],
  ])('a credential scope with %s', async (_name, scope, reason) => {
    expect(await failure(payloadWith({ 'x-amz-credential': scope }))).toBe(reason);
  });

  it('the wrong region, signed as such', async () => {
    expect(await failure(bytes(mskIamPayload({ region: 'eu-west-1' })))).toBe("credential region eu-west-1 is not this proxy's region us-east-1");
  });

  it.each([
    ['0', 'x-amz-expires 0 is not between 1 and 900 seconds'],
    ['901', 'x-amz-expires 901 is not between 1 and 900 seconds'],
    ['3600', 'x-amz-expires "3600" is not an integer of seconds'],
    ['900.5', 'x-amz-expires "900.5" is not an integer of seconds'],
    ['-1', 'x-amz-expires "-1" is not an integer of seconds'],
    ['', 'x-amz-expires "" is not an integer of seconds'],
  ])('x-amz-expires %j', async (expires, reason) => {
    expect(await failure(bytes(mskIamPayload({ expires })))).toBe(reason);
  });

  it('a signature past its expiry and the clock skew', async () => {
    const now = () => SIGNED_AT_MS + 20 * MINUTE + 1;
    expect(await failure(bytes(mskIamPayload()), undefined, { now })).toBe('signature expired at 2024-01-15T12:15:00.000Z');
  });

  it('a payload replayed after it expired, having been accepted before', async () => {
    const payload = bytes(mskIamPayload({ expires: '60' }));
    let now = SIGNED_AT_MS + 30_000;
    const proxy = mechanism(undefined, { now: () => now });
    await expect(proxy.authenticate(payload)).resolves.toBeDefined();
    now = SIGNED_AT_MS + 60_000 + 5 * MINUTE + 1;
    await expect(proxy.authenticate(payload)).rejects.toThrow('signature expired at 2024-01-15T12:01:00.000Z');
  });

  it('a signature dated beyond the clock skew in the future', async () => {
    const now = () => SIGNED_AT_MS - 5 * MINUTE - 1;
    expect(await failure(bytes(mskIamPayload()), undefined, { now })).toBe('signature date 2024-01-15T12:00:00.000Z is more than 300 s in the future');
  });

  it('honours a configured clock skew', async () => {
    const settings = { clockSkewSeconds: 0, now: () => SIGNED_AT_MS + 15 * MINUTE + 1 };
    expect(await failure(bytes(mskIamPayload()), undefined, settings)).toBe('signature expired at 2024-01-15T12:15:00.000Z');
  });

  it('a host that is not the proxy\'s', async () => {
    expect(await failure(bytes(mskIamPayload({ host: 'b-1.abcdef.c2.kafka.us-east-1.amazonaws.com' })))).toBe(
      'signed host "b-1.abcdef.c2.kafka.us-east-1.amazonaws.com" is not an address of this proxy',
    );
    expect(await failure(bytes(mskIamPayload({ host: `${PROXY_HOST}:19092` })))).toBe('host "b-1.proxy.example.com:19092" is not a host name without a port');
  });

  it('an unknown access key id, which is named', async () => {
    expect(await failure(bytes(mskIamPayload({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })))).toBe('unknown access key id AKIAIOSFODNN7EXAMPLE');
  });

  it('a signature made with another secret', async () => {
    expect(await failure(bytes(mskIamPayload({ secret: 'not-the-secret-at-all-000' })))).toBe('signature does not match for access key id AKIDEXAMPLE');
  });

  it('a signature that is not 64 lowercase hex digits', async () => {
    const upper = mskIamPayload()['x-amz-signature'].toUpperCase();
    expect(await failure(payloadWith({ 'x-amz-signature': upper }))).toBe('x-amz-signature is not 64 lowercase hex digits');
  });

  it.each([
    ['x-amz-expires', { 'x-amz-expires': '600' }],
    ['x-amz-date', { 'x-amz-date': '20240115T120500Z' }],
    ['host (another allowed one)', { host: 'kafka-proxy.internal' }],
    ['x-amz-security-token (added)', { 'x-amz-security-token': SESSION_TOKEN }],
  ])('a tampered %s', async (_name, fields) => {
    const store = storeOf(credential({ sessionToken: 'x-amz-security-token' in fields ? SESSION_TOKEN : undefined }));
    expect(await failure(payloadWith(fields), store)).toBe('signature does not match for access key id AKIDEXAMPLE');
  });

  it('a session token missing, different, or not expected', async () => {
    const bound = storeOf(credential({ sessionToken: SESSION_TOKEN }));
    expect(await failure(bytes(mskIamPayload()), bound)).toBe('session token missing for access key id AKIDEXAMPLE');
    expect(await failure(bytes(mskIamPayload({ securityToken: 'IQoJb3JpZ2luX2VjOTHER' })), bound)).toBe(
      'session token does not match for access key id AKIDEXAMPLE',
    );
    expect(await failure(bytes(mskIamPayload({ securityToken: SESSION_TOKEN })))).toBe('session token not expected for access key id AKIDEXAMPLE');
  });

  it('a session token with characters no STS token has', async () => {
    expect(await failure(bytes(mskIamPayload({ securityToken: 'a b' })))).toBe('x-amz-security-token is not printable ASCII of at most 16384 characters');
  });

  it('credentials past their stored expiry', async () => {
    const store = storeOf(credential({ expiresAtMs: SIGNED_AT_MS + 30_000 }));
    expect(await failure(bytes(mskIamPayload()), store)).toBe(`credentials for access key id ${ACCESS_KEY_ID} expired at 2024-01-15T12:00:30.000Z`);
  });
});

import { describe, expect, it } from 'vitest';
import { AccessKeyCheck } from '../../src/auth/aws/access-key-check.js';
import type { CredentialLookup } from '../../src/auth/aws/credential-store.js';
import { uriEncode } from '../../src/auth/aws/sigv4.js';
import type { AwsIamSettings } from '../../src/sasl/aws-msk-iam.js';
import { isIamOAuthToken, verifyIamOAuthToken } from '../../src/sasl/aws-iam-oauthbearer.js';
import { AuthenticationFailed } from '../../src/sasl/mechanism.js';
import { SECRET, SESSION_TOKEN, SIGNED_AT_MS, credential, iamToken, storeOf } from '../support/aws-sign.js';

const MINUTE = 60_000;
const settings: AwsIamSettings = { region: 'us-east-1', now: () => SIGNED_AT_MS + MINUTE };
const withToken = storeOf(credential({ sessionToken: SESSION_TOKEN }));

/**
 * Tokens made by the real signers with PROTOCOL-NOTES §4's key, at 2024-01-15T12:00:00Z (clock
 * stubbed): aws-msk-iam-sasl-signer-js 1.0.3 puts User-Agent second (sorted) and, for
 * credentials expiring in 899.5 s, sends X-Amz-Expires=899.5; aws-msk-iam-sasl-signer-python
 * 1.0.2 (botocore 1.44.5) appends User-Agent last.
 */
const signers = {
  js: 'aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSURFWEFNUExFJTJGMjAyNDAxMTUlMkZ1cy1lYXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDAxMTVUMTIwMDAwWiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduYXR1cmU9ZDNkYjA5M2NjMDNjNDUxNTQwZjgyOTI3OGUwMjY2NTFhMDIwOWRhYTdhNTk4NWI5MjI0NWY0M2FhYTMxZGU2NSZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q',
  jsSession:
    'aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSURFWEFNUExFJTJGMjAyNDAxMTUlMkZ1cy1lYXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDAxMTVUMTIwMDAwWiZYLUFtei1FeHBpcmVzPTg5OS41JlgtQW16LVNlY3VyaXR5LVRva2VuPUlRb0piM0pwWjJsdVgyVmpFWEFNUExFJTJGU0VTU0lPTiUyQlRPS0VOJTNEJlgtQW16LVNpZ25hdHVyZT1kMjc4NDBkYTc5NTFkN2UyMTVlMjI0NDgwOTJmNDQ3YzBjZGFkODE3NTQzZWU3ZGJlNGM1YWM0ODIyNjhkOTgyJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdA',
  python:
    'aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJREVYQU1QTEUlMkYyMDI0MDExNSUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI0MDExNVQxMjAwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TaWduYXR1cmU9ZDNkYjA5M2NjMDNjNDUxNTQwZjgyOTI3OGUwMjY2NTFhMDIwOWRhYTdhNTk4NWI5MjI0NWY0M2FhYTMxZGU2NSZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y',
  pythonSession:
    'aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJREVYQU1QTEUlMkYyMDI0MDExNSUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI0MDExNVQxMjAwMDBaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TZWN1cml0eS1Ub2tlbj1JUW9KYjNKcFoybHVYMlZqRVhBTVBMRSUyRlNFU1NJT04lMkJUT0tFTiUzRCZYLUFtei1TaWduYXR1cmU9YTNmNDg0OTczNGU2ODczMGExNDZmZjJiOWIxNmQyZGU3MzQwMmUyYzIxNDQ0MjliYmNmZDRjYWFjOGMzMGMyNCZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y',
};

async function failure(token: string, store: CredentialLookup = storeOf(credential()), overrides: Partial<AwsIamSettings> = {}): Promise<string> {
  const error = await verifyIamOAuthToken(token, store, { ...settings, ...overrides }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationFailed);
  const message = (error as Error).message;
  expect(message).not.toContain(SECRET);
  expect(message).not.toContain(SESSION_TOKEN);
  expect(message).not.toMatch(/[0-9a-f]{64}/);
  return message;
}

/** Rebuilds a token from its URL after `change` edits the URL text. */
function editUrl(token: string, change: (url: string) => string): string {
  return Buffer.from(change(Buffer.from(token, 'base64url').toString('utf8'))).toString('base64url');
}

describe('isIamOAuthToken', () => {
  it('recognises the signers\' tokens and not a JWT', () => {
    for (const token of Object.values(signers)) expect(isIamOAuthToken(token)).toBe(true);
    expect(isIamOAuthToken('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln')).toBe(false);
    expect(isIamOAuthToken('aHR0cHM6Ly9leGFtcGxl.c2ln')).toBe(false);
    expect(isIamOAuthToken(Buffer.from('http://kafka.us-east-1.amazonaws.com/').toString('base64url'))).toBe(false);
  });
});

describe('IAM over OAUTHBEARER: accepted', () => {
  it('the JS signer 1.0.3 token (User-Agent sorted in), lasting date + 900 s', async () => {
    const identity = await verifyIamOAuthToken(signers.js, storeOf(credential()), settings);
    expect(identity).toEqual({
      principal: 'User:alice',
      roles: ['producer'],
      mechanism: 'OAUTHBEARER',
      expiresAtMs: SIGNED_AT_MS + 900_000,
      credential: expect.any(AccessKeyCheck),
    });
  });

  it('the JS signer 1.0.3 token for temporary credentials, with X-Amz-Expires=899.5', async () => {
    const identity = await verifyIamOAuthToken(signers.jsSession, withToken, settings);
    expect(identity.expiresAtMs).toBe(SIGNED_AT_MS + 899_500);
  });

  it('the Python signer tokens (User-Agent last), with and without a session token', async () => {
    await expect(verifyIamOAuthToken(signers.python, storeOf(credential()), settings)).resolves.toMatchObject({ principal: 'User:alice' });
    await expect(verifyIamOAuthToken(signers.pythonSession, withToken, settings)).resolves.toMatchObject({ principal: 'User:alice' });
  });

  it('tokens built either way by the test signer, and with base64 padding left on', async () => {
    const store = storeOf(credential());
    await expect(verifyIamOAuthToken(iamToken({}, 'last'), store, settings)).resolves.toBeDefined();
    await expect(verifyIamOAuthToken(iamToken({ expires: '612.25' }, 'sorted'), store, settings)).resolves.toMatchObject({
      expiresAtMs: SIGNED_AT_MS + 612_250,
    });
    await expect(verifyIamOAuthToken(`${signers.python}==`, store, settings)).resolves.toBeDefined();
  });

  it('the Java IAMOAuthBearerLoginCallbackHandler form, whose URL has no slash before the query', async () => {
    const url = Buffer.from(iamToken({}, 'last'), 'base64url').toString().replace('.com/?', '.com?');
    const token = Buffer.from(url).toString('base64url');
    await expect(verifyIamOAuthToken(token, storeOf(credential()), settings)).resolves.toMatchObject({ principal: 'User:alice' });
  });

  it('a User-Agent with spaces sent as "+" (Go\'s url.Values) is read and ignored', async () => {
    const token = iamToken({}, 'sorted', (pairs) => pairs.filter(([k]) => k !== 'User-Agent'));
    const withAgent = editUrl(token, (url) => `${url}&User-Agent=aws-msk-iam-sasl-signer-go%2F1.0.0+go1.22`);
    await expect(verifyIamOAuthToken(withAgent, storeOf(credential()), settings)).resolves.toBeDefined();
  });

  it('the session ends at the earlier of the signature\'s and the stored credential\'s expiry', async () => {
    const expiresAtMs = SIGNED_AT_MS + 5 * MINUTE;
    const identity = await verifyIamOAuthToken(signers.python, storeOf(credential({ expiresAtMs })), settings);
    expect(identity.expiresAtMs).toBe(expiresAtMs);
  });
});

describe('IAM over OAUTHBEARER: refused', () => {
  const prefix = 'invalid AWS IAM OAUTHBEARER token: ';

  it.each([
    ['characters outside base64url', `${signers.python}.x`, 'not base64url'],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe]).toString('base64url'), 'not UTF-8'],
    ['an http URL', Buffer.from('http://kafka.us-east-1.amazonaws.com/?Action=x').toString('base64url'), 'not an https://<host>/?<query> URL'],
    ['a path other than /', editUrl(signers.python, (u) => u.replace('.com/?', '.com/kafka?')), 'not an https://<host>/?<query> URL'],
    ['a fragment', editUrl(signers.python, (u) => `${u}#x`), 'not an https://<host>/?<query> URL'],
    ['an empty pair', editUrl(signers.python, (u) => `${u}&`), 'query is not name=value pairs'],
    ['an unknown parameter', editUrl(signers.python, (u) => `${u}&X-Amz-Extra=1`), 'unexpected query parameter "X-Amz-Extra"'],
    ['a repeated parameter', editUrl(signers.python, (u) => `${u}&X-Amz-Expires=60`), 'query parameter X-Amz-Expires appears more than once'],
    ['a bad %-escape', editUrl(signers.python, (u) => `${u}%E0%A4%A`), 'query has a bad %-escape'],
    ['no signature', iamToken({}, 'last', (p) => p.filter(([k]) => k !== 'X-Amz-Signature')), 'query parameter X-Amz-Signature is missing'],
    ['an oversized token', 'aHR0cHM6Ly'.padEnd(30_000, 'A'), 'longer than 21846 characters'],
  ])('%s', async (_name, token, reason) => {
    expect(await failure(token)).toBe(prefix + reason);
  });

  it('a token signed for another region', async () => {
    expect(await failure(iamToken({ region: 'eu-west-1', host: 'kafka.eu-west-1.amazonaws.com' }))).toBe(
      "credential region eu-west-1 is not this proxy's region us-east-1",
    );
  });

  it('a token for any host but kafka.<region>.amazonaws.com', async () => {
    expect(await failure(iamToken({ host: 'b-1.proxy.example.com' }))).toBe('signed host "b-1.proxy.example.com" is not an address of this proxy');
  });

  it.each([
    ['0.5', 'x-amz-expires 0.5 is not between 1 and 900 seconds'],
    ['900.001', 'x-amz-expires 900.001 is not between 1 and 900 seconds'],
    ['1e2', 'x-amz-expires "1e2" is not a number of seconds'],
    ['-5.2', 'x-amz-expires "-5.2" is not a number of seconds'],
  ])('X-Amz-Expires=%s', async (expires, reason) => {
    expect(await failure(iamToken({ expires }))).toBe(reason);
  });

  it('a token replayed after it expired', async () => {
    await expect(verifyIamOAuthToken(signers.js, storeOf(credential()), settings)).resolves.toBeDefined();
    expect(await failure(signers.js, undefined, { now: () => SIGNED_AT_MS + 20 * MINUTE + 1 })).toBe('signature expired at 2024-01-15T12:15:00.000Z');
  });

  it('a tampered X-Amz-Expires or X-Amz-Date', async () => {
    const longer = editUrl(signers.python, (u) => u.replace('X-Amz-Expires=900', 'X-Amz-Expires=899'));
    expect(await failure(longer)).toBe('signature does not match for access key id AKIDEXAMPLE');
    const later = editUrl(signers.python, (u) => u.replace('X-Amz-Date=20240115T120000Z', 'X-Amz-Date=20240115T120500Z'));
    expect(await failure(later)).toBe('signature does not match for access key id AKIDEXAMPLE');
  });

  it('an unknown key, and session tokens missing, different or not expected', async () => {
    expect(await failure(iamToken({ accessKeyId: 'AKIAOTHER' }))).toBe('unknown access key id AKIAOTHER');
    expect(await failure(signers.python, withToken)).toBe('session token missing for access key id AKIDEXAMPLE');
    expect(await failure(signers.pythonSession)).toBe('session token not expected for access key id AKIDEXAMPLE');
    const other = storeOf(credential({ sessionToken: `${SESSION_TOKEN}x` }));
    expect(await failure(signers.pythonSession, other)).toBe('session token does not match for access key id AKIDEXAMPLE');
  });

  it('the token is read as sent: an encoded name still has to be a known parameter', async () => {
    const renamed = editUrl(signers.python, (u) => u.replace('User-Agent=', `${uriEncode('User Agent')}=`));
    expect(await failure(renamed)).toBe(`${prefix}unexpected query parameter "User Agent"`);
  });
});

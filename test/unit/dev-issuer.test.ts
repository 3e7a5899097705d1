import { Writable } from 'node:stream';
import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthTokenValidator, type OAuthBearerSettings } from '../../src/auth/oauth-validator.js';
import { type DevIssuer, type DevIssuerOptions, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { main } from '../../src/dev-issuer/main.js';
import { createLogger } from '../../src/observe/logger.js';

const SECRET = 'billing-s3cret';
const CLIENTS = {
  'svc-billing': { secret: SECRET, subject: 'svc-billing', roles: ['orders-writer'] },
  'odd client': { secret: 'p@ss:w+rd %', subject: 'odd', roles: [] },
};

const running: Array<{ stop(): unknown }> = [];
afterEach(async () => {
  for (const item of running.splice(0)) await item.stop();
});

async function issuer(options: DevIssuerOptions = {}) {
  const lines: string[] = [];
  const log = createLogger('debug', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
  const dev = await startDevIssuer({ clients: CLIENTS, log, ...options });
  running.push(dev);
  return { dev, logText: () => lines.join('') };
}

/** A validator trusting the issuer; it re-reads the JWKS on every unknown kid so rotations show at once. */
async function validatorFor(dev: DevIssuer, settings: Partial<OAuthBearerSettings> = {}) {
  const validator = new OAuthTokenValidator(
    { jwksUrl: dev.jwksUrl, issuer: dev.issuer, audience: ['kafka'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30, ...settings },
    createLogger('silent'),
    { unknownKidRefreshIntervalMs: 0 },
  );
  running.push(validator);
  await validator.start();
  return validator;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function post(url: string, body: string, headers: Record<string, string> = FORM) {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('dev issuer', () => {
  it('issues client-credentials tokens to a client using HTTP Basic, and they validate', async () => {
    const { dev, logText } = await issuer();
    const res = await post(dev.tokenUrl, 'grant_type=client_credentials&scope=kafka%20orders.write', { ...FORM, authorization: basic('svc-billing', SECRET) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'kafka orders.write', access_token: expect.any(String) });
    const token = res.body.access_token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: expect.any(String) });
    const validator = await validatorFor(dev);
    expect(await validator.validate(token)).toMatchObject({ principal: 'svc-billing', roles: ['orders-writer'] });
    const scoped = await validatorFor(dev, { rolesClaim: 'scope' });
    expect((await scoped.validate(token)).roles).toEqual(['kafka', 'orders.write']);
    expect(logText()).toContain('token issued');
    expect(logText()).not.toContain(token);
    expect(logText()).not.toContain(SECRET);
  });

  it('accepts client_id and client_secret form fields, and omits scope when none was asked for', async () => {
    const { dev } = await issuer();
    const res = await post(dev.tokenUrl, `grant_type=client_credentials&client_id=svc-billing&client_secret=${SECRET}`);
    expect(res.status).toBe(200);
    expect(res.body.scope).toBeUndefined();
    expect((await (await validatorFor(dev)).validate(res.body.access_token as string)).principal).toBe('svc-billing');
  });

  it('accepts Basic credentials raw or form-encoded (RFC 6749 §2.3.1)', async () => {
    const { dev } = await issuer();
    const raw = await post(dev.tokenUrl, 'grant_type=client_credentials', { ...FORM, authorization: basic('odd client', 'p@ss:w+rd %') });
    const encoded = await post(dev.tokenUrl, 'grant_type=client_credentials', { ...FORM, authorization: basic('odd+client', 'p%40ss%3Aw%2Brd+%25') });
    expect([raw.status, encoded.status]).toEqual([200, 200]);
  });

  it('refuses bad credentials with 401 invalid_client, and bad requests with 400, without echoing secrets', async () => {
    const { dev, logText } = await issuer();
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['grant_type=client_credentials', { ...FORM, authorization: basic('svc-billing', 'wrong-secret') }, 401, 'invalid_client'],
      ['grant_type=client_credentials', { ...FORM, authorization: basic('nobody', SECRET) }, 401, 'invalid_client'],
      ['grant_type=client_credentials&client_id=svc-billing&client_secret=wrong-secret', FORM, 401, 'invalid_client'],
      ['grant_type=client_credentials', FORM, 401, 'invalid_client'],
      ['grant_type=client_credentials', { ...FORM, authorization: 'Bearer abc' }, 401, 'invalid_client'],
      [`grant_type=client_credentials&client_secret=${SECRET}`, { ...FORM, authorization: basic('svc-billing', SECRET) }, 400, 'invalid_request'],
      ['grant_type=client_credentials&client_id=other', { ...FORM, authorization: basic('svc-billing', SECRET) }, 400, 'invalid_request'],
      ['grant_type=password', { ...FORM, authorization: basic('svc-billing', SECRET) }, 400, 'unsupported_grant_type'],
      ['scope=x', { ...FORM, authorization: basic('svc-billing', SECRET) }, 400, 'invalid_request'],
      ['grant_type=client_credentials&grant_type=client_credentials', { ...FORM, authorization: basic('svc-billing', SECRET) }, 400, 'invalid_request'],
      ['grant_type=client_credentials&scope=a%22b', { ...FORM, authorization: basic('svc-billing', SECRET) }, 400, 'invalid_scope'],
      ['{"grant_type":"client_credentials"}', { 'content-type': 'application/json', authorization: basic('svc-billing', SECRET) }, 400, 'invalid_request'],
    ];
    for (const [body, headers, status, error] of cases) {
      const res = await post(dev.tokenUrl, body, headers);
      expect({ body, status: res.status, error: res.body.error }).toEqual({ body, status, error });
      expect(res.body.error_description).toEqual(expect.any(String));
      if (status === 401) expect(res.headers.get('www-authenticate')).toBe('Basic realm="dev-issuer"');
    }
    expect(logText()).toContain('token request refused');
    expect(logText()).not.toContain('wrong-secret');
    expect(logText()).not.toContain(SECRET);
  });

  it('publishes OpenID discovery metadata', async () => {
    const { dev } = await issuer({ alg: 'ES256' });
    const res = await fetch(`${dev.url}/.well-known/openid-configuration`);
    expect(await res.json()).toEqual({
      issuer: dev.issuer,
      jwks_uri: dev.jwksUrl,
      token_endpoint: dev.tokenUrl,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
  });

  it('mints tokens over POST /mint and programmatically, with roles at a dotted path and claim overrides', async () => {
    const { dev } = await issuer({ rolesClaim: 'realm_access.roles', issuer: 'https://dev.example', audience: 'kafka-dev' });
    const settings = { rolesClaim: 'realm_access.roles', audience: ['kafka-dev'] };
    const res = await post(`${dev.url}/mint`, JSON.stringify({ subject: 'bob', roles: ['orders-reader'], expiresInSeconds: 60 }), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const validator = await validatorFor(dev, settings);
    const validated = await validator.validate(res.body.token as string);
    expect(validated).toMatchObject({ principal: 'bob', roles: ['orders-reader'] });
    expect(validated.expiresAtMs - validated.issuedAtMs).toBe(60_000);
    const wrongAudience = await dev.mint({ subject: 'bob', claims: { aud: 'elsewhere' } });
    await expect(validator.validate(wrongAudience)).rejects.toThrow('audience "elsewhere" does not include any of ["kafka-dev"]');
    const expired = await dev.mint({ subject: 'bob', expiresInSeconds: -3600 });
    await expect(validator.validate(expired)).rejects.toThrow(/^token expired at /);
  });

  it('answers bad /mint bodies, unknown paths and wrong methods with errors', async () => {
    const { dev } = await issuer();
    const json = { 'content-type': 'application/json' };
    expect((await post(`${dev.url}/mint`, 'not json', json)).body).toEqual({ error: 'invalid_request', error_description: 'body is not JSON' });
    expect((await post(`${dev.url}/mint`, '{"roles":[]}', json)).body.error_description).toBe('"subject" must be a non-empty string');
    expect((await post(`${dev.url}/mint`, '{"subject":"a","roles":"x"}', json)).body.error_description).toBe('"roles" must be an array of strings');
    expect((await post(`${dev.url}/mint`, 'x'.repeat(70_000), json)).status).toBe(413);
    expect((await fetch(`${dev.url}/nope`)).status).toBe(404);
    const wrongMethod = await fetch(dev.tokenUrl);
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('keeps the previous key in the JWKS for the grace period after a rotation', async () => {
    const { dev } = await issuer({ keyGraceSeconds: 1 });
    const kids = async () => ((await (await fetch(dev.jwksUrl)).json()) as { keys: Array<{ kid: string; use: string }> }).keys.map((k) => k.kid);
    const before = await dev.mint({ subject: 'carol' });
    const [oldKid] = await kids();
    const validator = await validatorFor(dev);
    const validate = (token: string) => validator.validate(token);
    expect((await validate(before)).principal).toBe('carol');

    const newKid = await dev.rotateKey();
    expect(newKid).not.toBe(oldKid);
    expect(await kids()).toEqual([newKid, oldKid]);
    const after = await dev.mint({ subject: 'carol' });
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect((await validate(after)).principal).toBe('carol');
    expect((await validate(before)).principal).toBe('carol');

    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await kids()).toEqual([newKid]);
  });

  it('says at start that it is for development only', async () => {
    const { logText } = await issuer();
    expect(logText()).toMatch(/"level":"warn".*DEVELOPMENT-ONLY token issuer started/);
  });

  it('reports command-line mistakes with exit code 2', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const argv of [['--alg', 'HS256'], ['--port', 'x'], ['--client', 'only-id'], ['--bogus']]) {
        await main(argv);
        expect(process.exitCode).toBe(2);
        process.exitCode = undefined;
      }
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('usage: kafka-auth-proxy dev-issuer');
    } finally {
      stderr.mockRestore();
      process.exitCode = undefined;
    }
  });
});

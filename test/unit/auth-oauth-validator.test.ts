import { CompactSign } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OAuthTokenValidator, type OAuthBearerSettings, TokenRejectedError } from '../../src/auth/oauth-validator.js';
import type { JwksCacheOptions } from '../../src/auth/jwks-cache.js';
import { createLogger } from '../../src/observe/logger.js';
import {
  type ClaimOptions,
  type SigningAlg,
  type TestKey,
  claimsFor,
  createTestKey,
  foreignKeyToken,
  hmacWithPublicKeyToken,
  signToken,
  tamperedToken,
  unknownKidToken,
  unsignedToken,
} from '../support/forged-tokens.js';
import { JwksServer } from '../support/jwks-server.js';

const ISSUER = 'https://issuer.test';
const silent = createLogger('silent');

let key: TestKey;
let server: JwksServer;
const validators: OAuthTokenValidator[] = [];

beforeAll(async () => {
  key = await createTestKey('RS256', 'main-key');
  server = await JwksServer.start([key.publicJwk]);
});
afterAll(() => server.close());
afterEach(() => {
  for (const validator of validators.splice(0)) validator.stop();
});

async function validator(settings: Partial<OAuthBearerSettings> = {}, jwks: JwksCacheOptions = {}, url = server.url) {
  const v = new OAuthTokenValidator(
    { jwksUrl: url, issuer: ISSUER, audience: ['kafka', 'kafka-admin'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30, ...settings },
    silent,
    jwks,
  );
  validators.push(v);
  await v.start();
  return v;
}

const claims = (options: Partial<ClaimOptions> = {}) => claimsFor({ issuer: ISSUER, audience: 'kafka', ...options });
const token = (options: Partial<ClaimOptions> = {}) => signToken(key, claims(options));

/** The rejection reason, after checking it is a TokenRejectedError that does not quote the token. */
async function reason(v: OAuthTokenValidator, jwt: string): Promise<string> {
  try {
    await v.validate(jwt);
  } catch (e) {
    expect(e).toBeInstanceOf(TokenRejectedError);
    const message = (e as Error).message;
    for (const part of jwt.split('.').filter((p) => p.length > 8)) expect(message).not.toContain(part);
    return message;
  }
  throw new Error('expected the token to be rejected');
}

describe('OAuthTokenValidator', () => {
  it('accepts a good token and returns principal, roles and times', async () => {
    const v = await validator();
    const c = claims({ subject: 'svc-billing', extra: { roles: ['orders-writer'] } });
    expect(await v.validate(await signToken(key, c))).toEqual({
      principal: 'svc-billing',
      roles: ['orders-writer'],
      expiresAtMs: (c.exp as number) * 1000,
      issuedAtMs: (c.iat as number) * 1000,
      signingKey: { kid: 'main-key', fingerprint: expect.any(String), generation: 1 },
    });
  });

  it.each<SigningAlg>(['RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])('accepts %s', async (alg) => {
    const other = await createTestKey(alg, `key-${alg}`);
    const jwks = await JwksServer.start([other.publicJwk]);
    try {
      const v = await validator({}, {}, jwks.url);
      expect((await v.validate(await signToken(other, claims()))).principal).toBe('alice');
    } finally {
      await jwks.close();
    }
  });

  it('accepts an audience list that contains any expected audience', async () => {
    const v = await validator();
    expect((await v.validate(await token({ audience: ['other', 'kafka-admin'] }))).principal).toBe('alice');
  });

  it('honours the clock skew on exp and nbf', async () => {
    const v = await validator();
    const now = Math.floor(Date.now() / 1000);
    expect((await v.validate(await token({ expiresIn: -20 }))).principal).toBe('alice');
    expect((await v.validate(await token({ extra: { nbf: now + 20 } }))).principal).toBe('alice');
  });

  it('rejects a bad signature: a stranger key under the trusted kid, or a tampered payload', async () => {
    const v = await validator();
    expect(await reason(v, await foreignKeyToken(key, claims()))).toBe('signature verification failed');
    expect(await reason(v, tamperedToken(await token(), claims({ subject: 'admin' })))).toBe('signature verification failed');
  });

  it('rejects an expired token with the time it expired', async () => {
    const v = await validator();
    const c = claims({ expiresIn: -31 });
    expect(await reason(v, await signToken(key, c))).toBe(`token expired at ${new Date((c.exp as number) * 1000).toISOString()}`);
  });

  it('rejects a token that is not valid yet', async () => {
    const v = await validator();
    const nbf = Math.floor(Date.now() / 1000) + 120;
    expect(await reason(v, await token({ extra: { nbf } }))).toBe(`token is not valid before ${new Date(nbf * 1000).toISOString()}`);
  });

  it('rejects the wrong issuer', async () => {
    const v = await validator();
    expect(await reason(v, await token({ issuer: 'https://evil.test' }))).toBe('issuer "https://evil.test" is not the expected "https://issuer.test"');
    expect(await reason(v, await token({ extra: { iss: undefined } }))).toBe('token has no "iss" claim');
  });

  it('rejects the wrong audience', async () => {
    const v = await validator();
    expect(await reason(v, await token({ audience: 'billing' }))).toBe('audience "billing" does not include any of ["kafka","kafka-admin"]');
    expect(await reason(v, await token({ extra: { aud: undefined } }))).toBe('token has no "aud" claim');
  });

  it('rejects alg none and an HS256 token keyed with the public key', async () => {
    const v = await validator();
    expect(await reason(v, unsignedToken(claims(), key.kid))).toBe('algorithm none is not allowed');
    expect(await reason(v, await hmacWithPublicKeyToken(key, claims()))).toBe('algorithm HS256 is not allowed');
  });

  it('rejects an unknown kid', async () => {
    const v = await validator();
    expect(await reason(v, await unknownKidToken(key, claims()))).toBe('no key with kid "no-such-kid" in the JWKS');
  });

  it('rejects a missing or empty principal claim, also under a configured claim name', async () => {
    const v = await validator();
    expect(await reason(v, await token({ extra: { sub: undefined } }))).toBe('token has no "sub" claim');
    expect(await reason(v, await token({ subject: '' }))).toBe('claim "sub" is not a non-empty string');
    const byClientId = await validator({ principalClaim: 'client.id' });
    expect((await byClientId.validate(await token({ extra: { client: { id: 'svc-a' } } }))).principal).toBe('svc-a');
    expect(await reason(byClientId, await token({ extra: { client: { id: 42 } } }))).toBe('claim "client.id" is not a non-empty string');
    expect(await reason(byClientId, await token())).toBe('token has no "client.id" claim');
  });

  it('requires exp and iat as numbers', async () => {
    const v = await validator();
    expect(await reason(v, await token({ extra: { exp: undefined } }))).toBe('token has no "exp" claim');
    expect(await reason(v, await token({ extra: { iat: undefined } }))).toBe('token has no "iat" claim');
    expect(await reason(v, await token({ extra: { exp: 'tomorrow' } }))).toBe('claim "exp" is not a number');
  });

  it('rejects malformed tokens', async () => {
    const v = await validator();
    for (const bad of ['', 'abc', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.%%%.abc', `${(await token()).split('.').slice(0, 2).join('.')}`]) {
      expect(await reason(v, bad)).toBe('malformed token');
    }
    const notJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
    expect(await reason(v, notJson)).toBe('malformed token');
  });

  describe('roles', () => {
    it('are empty when the claim is missing', async () => {
      const v = await validator();
      expect((await v.validate(await token())).roles).toEqual([]);
    });

    it('come from a space-separated scope string', async () => {
      const v = await validator({ rolesClaim: 'scope' });
      expect((await v.validate(await token({ extra: { scope: ' orders-writer  orders-reader ' } }))).roles).toEqual(['orders-writer', 'orders-reader']);
    });

    it('come from an array', async () => {
      const v = await validator({ rolesClaim: 'groups' });
      expect((await v.validate(await token({ extra: { groups: ['a', 'b'] } }))).roles).toEqual(['a', 'b']);
    });

    it('come from a nested dotted path, or a claim whose own name has dots', async () => {
      const nested = await validator({ rolesClaim: 'realm_access.roles' });
      expect((await nested.validate(await token({ extra: { realm_access: { roles: ['x'] } } }))).roles).toEqual(['x']);
      const namespaced = await validator({ rolesClaim: 'https://example.com/roles' });
      expect((await namespaced.validate(await token({ extra: { 'https://example.com/roles': 'y z' } }))).roles).toEqual(['y', 'z']);
    });

    it('refuse any other shape', async () => {
      const v = await validator();
      expect(await reason(v, await token({ extra: { roles: ['a', 1] } }))).toBe('claim "roles" is neither a string nor an array of strings');
      expect(await reason(v, await token({ extra: { roles: { a: true } } }))).toBe('claim "roles" is neither a string nor an array of strings');
    });
  });

  it('accepts a rotated key without a restart', async () => {
    let now = Date.now();
    const rotated = await createTestKey('ES256', 'rotated-key');
    const jwks = await JwksServer.start([key.publicJwk]);
    try {
      const v = await validator({}, { now: () => now }, jwks.url);
      jwks.keys = [rotated.publicJwk];
      now += 30_000;
      expect((await v.validate(await signToken(rotated, claims()))).principal).toBe('alice');
      expect(jwks.fetches).toBe(2);
    } finally {
      await jwks.close();
    }
  });

  it('verifies a token again, not from memory, once its key set was replaced or it expired', async () => {
    let now = Date.now();
    const rotated = await createTestKey('ES256', 'rotated-key');
    const jwks = await JwksServer.start([key.publicJwk]);
    try {
      const v = await validator({}, { now: () => now }, jwks.url);
      const before = await signToken(key, claims({ expiresIn: 300 }));
      expect((await v.validate(before)).principal).toBe('alice');
      expect((await v.validate(before)).principal).toBe('alice');
      jwks.keys = [rotated.publicJwk];
      now += 30_000;
      // A token under the new key makes the proxy load the new set, which no longer has the old key.
      await v.validate(await signToken(rotated, claims()));
      expect(await reason(v, before)).toMatch(/no key with kid/);

      const shortLived = await signToken(rotated, claims({ expiresIn: 60 }));
      expect((await v.validate(shortLived)).principal).toBe('alice');
      now += 120_000;
      expect(await reason(v, shortLived)).toMatch(/^token expired at /);
    } finally {
      await jwks.close();
    }
  });

  it('fails closed with a clear reason once the JWKS is stale beyond maxStaleSeconds', async () => {
    let now = Date.now();
    const jwks = await JwksServer.start([key.publicJwk]);
    const v = await validator({}, { now: () => now, maxStaleSeconds: 600 }, jwks.url);
    jwks.failing = true;
    now += 30_000;
    expect(await reason(v, await unknownKidToken(key, claims()))).toBe('no key with kid "no-such-kid" in the JWKS');
    expect((await v.validate(await token())).principal).toBe('alice');
    now += 600_000;
    expect(await reason(v, await token())).toBe('the JWKS could not be refreshed for more than 600 s (last error: HTTP 503)');
    await jwks.close();
  });
});

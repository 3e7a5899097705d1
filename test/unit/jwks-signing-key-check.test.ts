import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OAuthTokenValidator } from '../../src/auth/oauth-validator.js';
import { createLogger } from '../../src/observe/logger.js';
import { type TestKey, claimsFor, createTestKey, signToken } from '../support/forged-tokens.js';
import { JwksServer } from '../support/jwks-server.js';

const ISSUER = 'https://issuer.test';

let keyA: TestKey;
let keyB: TestKey;
/** Another key pair under key A's kid: what an issuer re-using a kid would publish. */
let keyAReplaced: TestKey;
const open: Array<{ stop(): void } | { close(): Promise<void> }> = [];

beforeAll(async () => {
  [keyA, keyB, keyAReplaced] = await Promise.all([createTestKey('RS256', 'key-a'), createTestKey('ES256', 'key-b'), createTestKey('RS256', 'key-a')]);
});

afterEach(async () => {
  for (const item of open.splice(0)) await ('stop' in item ? item.stop() : item.close());
});

/** A validator on a JWKS server serving `keys`, with periodic refreshes out of the way: tests reload by hand. */
async function setup(...keys: TestKey[]) {
  const server = await JwksServer.start(keys.map((k) => k.publicJwk));
  open.push(server);
  const validator = new OAuthTokenValidator(
    { jwksUrl: server.url, issuer: ISSUER, audience: ['kafka'], principalClaim: 'sub', rolesClaim: 'roles', clockSkewSeconds: 30 },
    createLogger('silent'),
    { refreshIntervalMs: 3_600_000, unknownKidRefreshIntervalMs: 3_600_000 },
  );
  open.push(validator);
  await validator.start();
  const publish = async (...next: TestKey[]) => {
    server.keys = next.map((k) => k.publicJwk);
    await validator.reloadKeys('test');
  };
  return { server, validator, publish };
}

const tokenBy = (key: TestKey) => signToken(key, claimsFor({ issuer: ISSUER, audience: 'kafka', extra: { roles: ['reader'] } }));

async function sessionOf(validator: OAuthTokenValidator, key: TestKey) {
  return validator.checkFor(await validator.validate(await tokenBy(key)));
}

describe('a JWT session after a JWKS refresh', () => {
  it('goes on while its signing key stays, with the token\'s own roles', async () => {
    const { validator, publish } = await setup(keyA, keyB);
    const check = await sessionOf(validator, keyA);
    expect(check.recheckIfReloaded(Date.now())).toBeUndefined();
    await publish(keyA);
    expect(check.recheckIfReloaded(Date.now())).toEqual({ valid: true, roles: ['reader'], expiresAtMs: null });
    expect(check.recheckIfReloaded(Date.now())).toBeUndefined();
  });

  it('ends when its signing key is removed', async () => {
    const { validator, publish } = await setup(keyA, keyB);
    const check = await sessionOf(validator, keyA);
    await publish(keyB);
    expect(check.recheckIfReloaded(Date.now())).toEqual({ valid: false, reason: 'signing-key-removed' });
  });

  it('ends when other key material is published under its kid', async () => {
    const { validator, publish } = await setup(keyA);
    const check = await sessionOf(validator, keyA);
    await publish(keyAReplaced);
    expect(check.recheckIfReloaded(Date.now())).toEqual({ valid: false, reason: 'signing-key-changed' });
  });

  it('is not ended by an issuer outage: the last good keys still stand for it', async () => {
    const { server, validator, publish } = await setup(keyA);
    const check = await sessionOf(validator, keyA);
    server.failing = true;
    await publish(keyA);
    expect(check.recheckIfReloaded(Date.now())).toBeUndefined();
  });

  it('checked after a remembered token: the first request re-checks, and a removal still ends it', async () => {
    const { validator, publish } = await setup(keyA, keyB);
    const token = await tokenBy(keyA);
    await validator.validate(token);
    await publish(keyA, keyB);
    const check = validator.checkFor(await validator.validate(token));
    expect(check.recheckIfReloaded(Date.now())).toMatchObject({ valid: true });
    await publish(keyB);
    expect(check.recheckIfReloaded(Date.now())).toEqual({ valid: false, reason: 'signing-key-removed' });
  });
});

describe('remembered tokens', () => {
  it('are refused once their signing key is removed, though verified before', async () => {
    const { validator, publish } = await setup(keyA, keyB);
    const token = await tokenBy(keyA);
    expect((await validator.validate(token)).principal).toBe('alice');
    await publish(keyB);
    await expect(validator.validate(token)).rejects.toThrow('no key with kid "key-a" in the JWKS');
  });

  it('are refused once their kid names another key', async () => {
    const { validator, publish } = await setup(keyA);
    const token = await tokenBy(keyA);
    await validator.validate(token);
    await publish(keyAReplaced);
    await expect(validator.validate(token)).rejects.toThrow('signature verification failed');
  });
});

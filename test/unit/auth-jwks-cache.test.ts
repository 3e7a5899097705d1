import { mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { JwksCache, type JwksCacheOptions } from '../../src/auth/jwks-cache.js';
import { createLogger } from '../../src/observe/logger.js';
import { type TestKey, claimsFor, createTestKey, signToken } from '../support/forged-tokens.js';
import { JwksServer } from '../support/jwks-server.js';

const claims = () => claimsFor({ issuer: 'https://issuer.test', audience: 'kafka' });

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: createLogger('debug', stream), lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

/** A clock the test moves by hand, for rate limits and staleness. */
function manualClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

let keyA: TestKey;
let keyB: TestKey;
const open: Array<{ stop(): void } | { close(): Promise<void> }> = [];

beforeAll(async () => {
  [keyA, keyB] = await Promise.all([createTestKey('RS256', 'key-a'), createTestKey('ES256', 'key-b')]);
});

afterEach(async () => {
  for (const item of open.splice(0)) await ('stop' in item ? item.stop() : item.close());
});

async function startCache(url: string, options: JwksCacheOptions = {}) {
  const capture = captureLog();
  const cache = new JwksCache(url, capture.log, options);
  open.push(cache);
  await cache.start();
  return { cache, ...capture };
}

async function startServer(...keys: TestKey[]) {
  const server = await JwksServer.start(keys.map((k) => k.publicJwk));
  open.push(server);
  return server;
}

async function verifyWith(cache: JwksCache, key: TestKey, header: Record<string, unknown> = {}): Promise<string> {
  try {
    const { payload } = await jwtVerify(await signToken(key, claims(), header), async (h, t) => (await cache.keyFor(h, t)).key);
    return `ok ${payload.sub}`;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('JWKS cache', () => {
  it('serves keys from an http JWKS and logs the refresh at debug without key material', async () => {
    const server = await startServer(keyA, keyB);
    const { cache, lines, text } = await startCache(server.url);
    expect(await verifyWith(cache, keyA)).toBe('ok alice');
    expect(await verifyWith(cache, keyB)).toBe('ok alice');
    expect(lines).toContainEqual(expect.objectContaining({ level: 'debug', msg: 'JWKS refreshed', kids: ['key-a', 'key-b'] }));
    expect(text()).not.toContain(keyA.publicJwk.n);
    expect(text()).not.toContain(keyB.publicJwk.x);
  });

  it('refreshes periodically', async () => {
    const server = await startServer(keyA);
    const { cache } = await startCache(server.url, { refreshIntervalMs: 30, unknownKidRefreshIntervalMs: 3_600_000 });
    server.keys = [keyB.publicJwk];
    await vi.waitFor(async () => expect(await verifyWith(cache, keyB)).toBe('ok alice'), { timeout: 2000, interval: 20 });
    expect(await verifyWith(cache, keyA)).toBe('no key with kid "key-a" in the JWKS');
  });

  it('picks up a rotated key early when a token names an unknown kid', async () => {
    const clock = manualClock();
    const server = await startServer(keyA);
    const { cache } = await startCache(server.url, { now: clock.now });
    server.keys = [keyA.publicJwk, keyB.publicJwk];
    clock.advance(30_000);
    expect(await verifyWith(cache, keyB)).toBe('ok alice');
    expect(server.fetches).toBe(2);
  });

  it('fetches at most once per interval for a burst of unknown kids', async () => {
    const clock = manualClock();
    const server = await startServer(keyA);
    const { cache } = await startCache(server.url, { now: clock.now });
    clock.advance(30_000);
    const burst = () => Promise.all(Array.from({ length: 20 }, (_, i) => verifyWith(cache, keyA, { kid: `unknown-${i}` })));
    const reasons = await burst();
    expect(new Set(reasons)).toEqual(new Set(reasons.map((_, i) => `no key with kid "unknown-${i}" in the JWKS`)));
    expect(server.fetches).toBe(2);
    clock.advance(29_000);
    await burst();
    expect(server.fetches).toBe(2);
    clock.advance(1_000);
    await burst();
    expect(server.fetches).toBe(3);
  });

  it('keeps the last good keys while the issuer is unreachable, then fails closed after maxStaleSeconds', async () => {
    const clock = manualClock();
    const server = await startServer(keyA);
    const { cache, lines } = await startCache(server.url, { now: clock.now, refreshIntervalMs: 20, retryInitialDelayMs: 20, maxStaleSeconds: 60 });
    await server.close();
    await vi.waitFor(() => expect(lines.some((l) => l.level === 'warn')).toBe(true), { timeout: 2000, interval: 10 });
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ msg: 'JWKS refresh failed; keeping the last good keys', err: expect.stringContaining('ECONNREFUSED') });
    expect(await verifyWith(cache, keyA)).toBe('ok alice');
    clock.advance(60_000);
    expect(await verifyWith(cache, keyA)).toBe('ok alice');
    clock.advance(1_000);
    expect(await verifyWith(cache, keyA)).toBe('the JWKS could not be refreshed for more than 60 s (last error: fetch failed (ECONNREFUSED))');
  });

  it('retries failed fetches with exponential backoff up to the maximum delay', async () => {
    const server = await startServer(keyA);
    server.failing = true;
    const { cache, lines } = await startCache(server.url, { retryInitialDelayMs: 10, retryMaxDelayMs: 40 });
    const retries = () => lines.filter((l) => l.level === 'warn').map((l) => l.retryInMs);
    await vi.waitFor(() => expect(retries().length).toBeGreaterThanOrEqual(5), { timeout: 3000, interval: 10 });
    expect(retries().slice(0, 5)).toEqual([10, 20, 40, 40, 40]);
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ err: 'HTTP 503', msg: 'JWKS refresh failed; no usable keys' });
    expect(await verifyWith(cache, keyA)).toBe('the JWKS has not been loaded (last error: HTTP 503)');
    server.failing = false;
    await vi.waitFor(async () => expect(await verifyWith(cache, keyA)).toBe('ok alice'), { timeout: 2000, interval: 10 });
  });

  it('starts without keys when the issuer is down and says so', async () => {
    const server = await startServer(keyA);
    await server.close();
    const { cache } = await startCache(server.url);
    expect(await verifyWith(cache, keyA)).toBe('the JWKS has not been loaded (last error: fetch failed (ECONNREFUSED))');
  });

  it('gives up on an issuer that does not answer within the fetch timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    open.push({
      close: () => {
        for (const socket of sockets) socket.destroy();
        return new Promise<void>((resolve) => silent.close(() => resolve()));
      },
    });
    const { port } = silent.address() as { port: number };
    const { cache } = await startCache(`http://127.0.0.1:${port}/jwks.json`, { fetchTimeoutMs: 100 });
    expect(await verifyWith(cache, keyA)).toMatch(/last error: no complete answer within 100 ms/);
  });

  it('uses only signature keys: use "enc", private and symmetric keys are dropped', async () => {
    const server = await JwksServer.start([
      { ...keyA.publicJwk, use: 'enc' },
      { ...keyB.publicJwk, d: 'private-part' },
      { kty: 'oct', kid: 'shared', k: 'c2VjcmV0' },
    ]);
    open.push(server);
    const clock = manualClock();
    const { cache, lines } = await startCache(server.url, { now: clock.now });
    expect(lines.find((l) => l.level === 'warn')?.err).toBe('none of the 3 keys is a public RSA, EC or OKP key with a kid and use "sig" or no use');
    server.keys = [{ ...keyA.publicJwk, use: 'enc' }, { ...keyB.publicJwk, use: undefined }];
    clock.advance(30_000);
    expect(await verifyWith(cache, keyB)).toBe('ok alice');
    expect(await verifyWith(cache, keyA)).toBe('no key with kid "key-a" in the JWKS');
  });

  it('refuses a token whose alg does not fit the key its kid names', async () => {
    const server = await startServer(keyA);
    const { cache } = await startCache(server.url);
    const ecKeyUnderA = await createTestKey('ES256', 'key-a');
    expect(await verifyWith(cache, ecKeyUnderA)).toBe('key "key-a" in the JWKS cannot verify ES256');
  });

  it('refuses a token without a kid', async () => {
    const server = await startServer(keyA);
    const { cache } = await startCache(server.url);
    expect(await verifyWith(cache, keyA, { kid: undefined })).toBe('token has no "kid" header');
  });

  it('re-reads a file:// JWKS when the file changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [keyA.publicJwk] }));
    const { cache } = await startCache(pathToFileURL(file).href, { fileWatchIntervalMs: 20, unknownKidRefreshIntervalMs: 3_600_000 });
    expect(await verifyWith(cache, keyA)).toBe('ok alice');
    expect(await verifyWith(cache, keyB)).toBe('no key with kid "key-b" in the JWKS');
    writeFileSync(file, JSON.stringify({ keys: [keyA.publicJwk, keyB.publicJwk] }));
    await vi.waitFor(async () => expect(await verifyWith(cache, keyB)).toBe('ok alice'), { timeout: 3000, interval: 20 });
  });

  it('keeps the last good keys when the file becomes invalid, without quoting it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [keyA.publicJwk] }));
    const { cache, lines, text } = await startCache(pathToFileURL(file).href, { fileWatchIntervalMs: 20 });
    writeFileSync(file, `{"keys": [${JSON.stringify(keyB.publicJwk)}`);
    await vi.waitFor(() => expect(lines.some((l) => l.level === 'warn')).toBe(true), { timeout: 3000, interval: 20 });
    expect(lines.find((l) => l.level === 'warn')?.err).toBe('response is not JSON');
    expect(text()).not.toContain(keyB.publicJwk.x);
    expect(await verifyWith(cache, keyA)).toBe('ok alice');
  });
});

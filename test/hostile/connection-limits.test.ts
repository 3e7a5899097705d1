import { randomUUID } from 'node:crypto';
import { type Socket, connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultApiVersionsRequest } from '../../src/protocol/generated/messages/ApiVersionsRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import { type SaslAuthenticateResponse, readSaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { oauthListener, startTestIssuer } from '../integration/helpers/issuer.js';
import { kafkajsRoundTrip } from '../integration/helpers/kafkajs-round-trip.js';
import { type TestProxy, startTestProxy } from '../integration/helpers/proxy.js';
import { authenticatedConnection, gs2 } from '../integration/helpers/raw-sasl.js';
import { createTopic } from '../integration/helpers/topics.js';

/** The largest frame a client may send before authenticating (limits.maxUnauthenticatedRequestBytes). */
const PRE_AUTH_FRAME = 512 * 1024;
/** A size prefix for the largest pre-auth frame and all of its body but the last byte. */
const UNFINISHED_FRAME = Buffer.alloc(4 + PRE_AUTH_FRAME - 1);
UNFINISHED_FRAME.writeInt32BE(PRE_AUTH_FRAME, 0);

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

async function refusals(tp: TestProxy, reason: string): Promise<number> {
  const { values } = await tp.proxy.metrics.connectionsRefused.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function openConnections(tp: TestProxy, state: 'unauthenticated' | 'authenticated'): Promise<number> {
  const { values } = await tp.proxy.metrics.openConnections.get();
  return values.find((v) => v.labels.state === state)?.value ?? 0;
}

async function authenticationTimeouts(tp: TestProxy): Promise<number> {
  const { values } = await tp.proxy.metrics.authenticationTimeouts.get();
  return values[0]?.value ?? 0;
}

/** Resolves when `socket` closes. */
const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

interface Probe {
  socket: Socket;
  admitted: boolean;
}

/**
 * Connects from `from` (every 127.x.y.z is this machine's loopback, a distinct client IP to the
 * proxy) and sends ApiVersions: admitted once an answer comes, refused when the proxy closes first.
 */
function probe(port: number, from: string): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    socket.on('error', () => {});
    socket.once('connect', () => socket.write(requestFrame(API_KEYS.ApiVersions, 3, 1, 'limits-probe', defaultApiVersionsRequest())));
    socket.once('data', () => resolve({ socket, admitted: true }));
    socket.once('close', () => resolve({ socket, admitted: false }));
  });
}

interface Attacker {
  socket: Socket;
  closed: boolean;
  /** Its whole unfinished frame went out. */
  sent: boolean;
}

/** A connection that will start the largest SASL frame allowed and never finish it. */
function attacker(port: number, from: string): Attacker {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  const a: Attacker = { socket, closed: false, sent: false };
  socket.on('error', () => {});
  socket.on('close', () => (a.closed = true));
  return a;
}

/** Resolves with the next whole frame `socket` receives; rejects if it closes first. */
function nextFrame(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4 || got.length < 4 + got.readInt32BE(0)) return;
      socket.off('data', onData).off('close', onClose);
      resolve(got);
    };
    const onClose = () => reject(new Error('connection closed'));
    socket.on('data', onData).once('close', onClose);
  });
}

/** A frame announcing `size` bytes, of which only `sent` follow. */
function partialFrame(size: number, sent: number): Buffer {
  const frame = Buffer.alloc(4 + sent);
  frame.writeInt32BE(size, 0);
  return frame;
}

function sendUnfinishedFrame(a: Attacker): void {
  if (a.closed) return;
  if (a.socket.connecting) a.socket.once('connect', () => sendUnfinishedFrame(a));
  else a.socket.write(UNFINISHED_FRAME, (e) => (a.sent = !e));
}

describe('connection limits against a hostile client', () => {
  let issuer: DevIssuer;

  beforeAll(async () => {
    issuer = await startTestIssuer();
  });

  afterAll(async () => {
    await issuer?.stop();
  });

  it('bounds 400 connections holding unfinished 512 KiB SASL frames, and a real client keeps working', async () => {
    const budget = 16 * 1024 * 1024;
    const tp = await startTestProxy(
      oauthListener(issuer, {
        limits: { maxUnauthenticatedBytes: budget },
        // One attacking host may not take the listener's unauthenticated places from everyone else.
        listenerLimits: {
          maxUnauthenticatedConnectionsPerIp: 100,
          maxUnauthenticatedConnections: 150,
          maxNewConnectionsPerSecondPerIp: 10_000,
          authenticationTimeoutMs: 120_000,
        },
      }),
    );
    const topic = `limits-legit-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 1, replicationFactor: inject('kafka').brokers.length });
    const kafka = new Kafka({
      clientId: 'limits-legit',
      brokers: [tp.bootstrap],
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await issuer.mint({ subject: 'svc-legit' }) }) },
    });
    const attackers: Attacker[] = [];
    try {
      const rssBefore = rssMiB();
      for (let i = 0; i < 400; i++) attackers.push(attacker(tp.bootstrapPort, '127.0.0.2'));
      // All connect first: what the per-IP limit refuses at accept is then exactly the excess.
      await expect.poll(async () => (await refusals(tp, 'per-ip-unauthenticated')) + (await openConnections(tp, 'unauthenticated'))).toBe(400);
      expect(await openConnections(tp, 'unauthenticated')).toBe(100);
      for (const a of attackers) sendUnfinishedFrame(a);
      const listener = tp.proxy.listeners[0];
      // Settled: every attacker is closed or has sent its all, and the proxy holds all of what the open ones sent.
      await expect
        .poll(
          () => {
            const open = attackers.filter((a) => !a.closed);
            return attackers.every((a) => a.closed || a.sent) && listener.bufferedBytes === open.length * UNFINISHED_FRAME.length;
          },
          { timeout: 60_000, interval: 100 },
        )
        .toBe(true);
      const holding = attackers.filter((a) => !a.closed).length;
      expect(holding * UNFINISHED_FRAME.length).toBeLessThanOrEqual(budget);
      // Every attacker beyond what the budget holds was refused, at accept or by the byte budget, and counted.
      expect(await refusals(tp, 'per-ip-unauthenticated')).toBe(300);
      // Refused room, or evicted as the largest holder when another asked: each counted once.
      expect(await refusals(tp, 'preauth-bytes')).toBe(100 - holding);
      expect(await openConnections(tp, 'unauthenticated')).toBe(holding);
      // Unbounded, the same attack added 201 MiB.
      expect(rssMiB() - rssBefore).toBeLessThan(100);

      await kafkajsRoundTrip(kafka, topic, 20);
      expect(tp.logs.some((l) => l.msg === 'connection refused by a limit' && l.client === '127.0.0.2')).toBe(true);
    } finally {
      for (const a of attackers) a.socket.destroy();
      await tp.stop();
    }
    expect(await openConnections(tp, 'unauthenticated')).toBe(0);
  });

  it('evicts the connection hoarding pre-authentication bytes, not a newcomer whose SASL frame spans two writes', async () => {
    const tp = await startTestProxy(oauthListener(issuer, { limits: { maxUnauthenticatedBytes: 1024 * 1024 } }));
    const hogs = [attacker(tp.bootstrapPort, '127.0.0.6'), attacker(tp.bootstrapPort, '127.0.0.7')];
    const newcomer = connect({ host: '127.0.0.1', port: tp.bootstrapPort });
    try {
      await Promise.all([...hogs, { socket: newcomer }].map(({ socket }) => new Promise((r) => socket.once('connect', r))));
      // 512 KiB and 500 KiB held: about 12 KiB of the 1 MiB budget is left.
      const held = [UNFINISHED_FRAME, partialFrame(PRE_AUTH_FRAME, 500 * 1024 - 4)];
      hogs.forEach((h, i) => h.socket.write(held[i]));
      await expect.poll(() => tp.proxy.listeners[0].bufferedBytes).toBe(held[0].length + held[1].length);

      newcomer.write(requestFrame(API_KEYS.SaslHandshake, 1, 1, 'limits-newcomer', { mechanism: 'OAUTHBEARER' }));
      await nextFrame(newcomer);
      // A real token with a 20 KiB extension: more than is left, sent in two writes.
      const token = await issuer.mint({ subject: 'svc-newcomer' });
      const authBytes = Buffer.from(`n,,\x01auth=Bearer ${token}\x01padding=${'p'.repeat(20 * 1024)}\x01\x01`);
      const frame = requestFrame(API_KEYS.SaslAuthenticate, 2, 2, 'limits-newcomer', { authBytes });
      newcomer.write(frame.subarray(0, 15 * 1024));
      await expect.poll(() => hogs[0].closed).toBe(true);
      newcomer.write(frame.subarray(15 * 1024));
      const r = new Reader(await nextFrame(newcomer), 4);
      readResponseHeader(r, API_KEYS.SaslAuthenticate, 2);
      expect(readSaslAuthenticateResponse(r, 2).errorCode).toBe(0);

      expect(hogs[1].closed).toBe(false);
      expect(await refusals(tp, 'preauth-bytes')).toBe(1);
      expect(tp.logs.filter((l) => l.msg === 'connection closed' && l.reason === 'evicted: holds the most of the pre-authentication byte budget')).toHaveLength(1);
    } finally {
      for (const h of hogs) h.socket.destroy();
      newcomer.destroy();
      await tp.stop();
    }
  });

  it('caps the connections one IP has authenticating, while another IP still authenticates', async () => {
    const tp = await startTestProxy(oauthListener(issuer, { listenerLimits: { maxUnauthenticatedConnectionsPerIp: 5 } }));
    const probes: Probe[] = [];
    try {
      probes.push(...(await Promise.all(Array.from({ length: 8 }, () => probe(tp.bootstrapPort, '127.0.0.2')))));
      expect(probes.filter((p) => p.admitted)).toHaveLength(5);
      expect(await refusals(tp, 'per-ip-unauthenticated')).toBe(3);
      const conn = await authenticatedConnection(tp.bootstrapPort, await issuer.mint({ subject: 'svc-other-ip' }));
      const metadata = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] });
      expect(metadata.body.brokers).toHaveLength(3);
      conn.close();
    } finally {
      for (const p of probes) p.socket.destroy();
      await tp.stop();
    }
  });

  it('holds re-authentication frames to the pre-authentication frame limit', async () => {
    const tp = await startTestProxy(oauthListener(issuer));
    try {
      const conn = await authenticatedConnection(tp.bootstrapPort, await issuer.mint({ subject: 'svc-reauth-large' }));
      await expect(conn.sendRaw(API_KEYS.SaslHandshake, 1, Buffer.alloc(PRE_AUTH_FRAME + 1024))).rejects.toThrow(/closed/);
      expect(tp.logs.some((l) => l.msg === 'malformed request; closing the connection' && /SASL frame of \d+ bytes exceeds/.test(String(l.err)))).toBe(true);
    } finally {
      await tp.stop();
    }
  });

  it('bounds incomplete requests across connections after authentication: the largest holder goes first', async () => {
    const tp = await startTestProxy({ limits: { maxBufferedRequestBytes: 1024 * 1024 } });
    const [hog, newcomer, greedy] = [attacker(tp.bootstrapPort, '127.0.0.8'), attacker(tp.bootstrapPort, '127.0.0.9'), attacker(tp.bootstrapPort, '127.0.0.9')];
    try {
      await Promise.all([hog, newcomer, greedy].map(({ socket }) => new Promise((r) => socket.once('connect', r))));
      hog.socket.write(partialFrame(4 * 1024 * 1024, 900 * 1024));
      await expect.poll(() => tp.proxy.listeners[0].bufferedBytes).toBe(900 * 1024 + 4);
      // 200 KiB more does not fit: the 900 KiB holder is closed, not the one asking.
      newcomer.socket.write(partialFrame(4 * 1024 * 1024, 200 * 1024));
      await expect.poll(() => hog.closed).toBe(true);
      // One asking for more than anyone else holds gives way itself.
      greedy.socket.write(partialFrame(4 * 1024 * 1024, 900 * 1024));
      await expect.poll(() => greedy.closed).toBe(true);
      expect(newcomer.closed).toBe(false);
      expect(await refusals(tp, 'request-bytes')).toBe(2);
      const reasons = tp.logs.filter((l) => l.msg === 'connection closed').map((l) => l.reason);
      expect(reasons).toEqual(expect.arrayContaining(['evicted: holds the most of the request buffer budget', 'request buffer budget exhausted']));
    } finally {
      for (const a of [hog, newcomer, greedy]) a.socket.destroy();
      await tp.stop();
    }
  });

  describe('authentication deadline and failure delay', () => {
    let tp: TestProxy;
    const metadata = (conn: KafkaConnection) => conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] });

    beforeAll(async () => {
      tp = await startTestProxy(oauthListener(issuer, { listenerLimits: { authenticationTimeoutMs: 2000, failedAuthenticationDelayMs: 1000 } }));
    });

    afterAll(async () => {
      await tp?.stop();
    });

    it('closes a connection that does not authenticate in time, and only that one', async () => {
      const authenticated = await authenticatedConnection(tp.bootstrapPort, await issuer.mint({ subject: 'svc-prompt' }));
      const idle = await probe(tp.bootstrapPort, '127.0.0.1');
      expect(idle.admitted).toBe(true);
      await closed(idle.socket);
      expect(await authenticationTimeouts(tp)).toBe(1);
      expect(tp.logs.some((l) => l.msg === 'connection closed' && /not authenticated within authenticationTimeoutMs/.test(String(l.reason)))).toBe(true);
      // Authenticated before the idle one connected, so past its own deadline too, and still served.
      expect((await metadata(authenticated)).body.brokers).toHaveLength(3);
      authenticated.close();
    });

    it('answers a failed authentication only after the delay, then closes', async () => {
      const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
      expect((await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' })).body.errorCode).toBe(0);
      const sentAt = performance.now();
      const answer = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: gs2('not-a-jwt') });
      expect(answer.body.errorCode).toBe(58);
      expect(performance.now() - sentAt).toBeGreaterThanOrEqual(900);
      await expect(metadata(conn)).rejects.toThrow(/closed/);
      // The reason is logged once, on the 'authentication failed' line; the close names only the class.
      const closes = tp.logs.filter((l) => l.msg === 'connection closed' && String(l.reason).startsWith('authentication failed'));
      expect(closes.map((l) => l.reason)).toContain('authentication failed');
      expect(closes.every((l) => l.reason === 'authentication failed')).toBe(true);
    });

    it('ends a failed connection whose client left during the delay', async () => {
      const before = await openConnections(tp, 'unauthenticated');
      const socket = connect({ host: '127.0.0.1', port: tp.bootstrapPort });
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      // A non-SASL request first: the proxy fails the exchange (and waits before closing); the client leaves at once.
      socket.end(requestFrame(API_KEYS.Metadata, 12, 1, 'limits-leaver', { ...defaultMetadataRequest(), topics: [] }));
      await expect.poll(() => tp.logs.some((l) => l.msg === 'authentication failed' && /before SASL handshake/.test(String(l.reason)))).toBe(true);
      await expect.poll(() => openConnections(tp, 'unauthenticated'), { timeout: 10_000 }).toBe(before);
    });
  });

  it('refuses new connections from one IP beyond its rate, not those of another IP', async () => {
    const tp = await startTestProxy({ listenerLimits: { maxNewConnectionsPerSecondPerIp: 5 } });
    const probes: Probe[] = [];
    try {
      probes.push(...(await Promise.all(Array.from({ length: 20 }, () => probe(tp.bootstrapPort, '127.0.0.3')))));
      const admitted = probes.filter((p) => p.admitted).length;
      expect(admitted).toBeGreaterThanOrEqual(5);
      // 5 at once, then 5 a second: the burst cannot have taken much more.
      expect(admitted).toBeLessThan(10);
      expect(await refusals(tp, 'per-ip-rate')).toBe(20 - admitted);
      const other = await probe(tp.bootstrapPort, '127.0.0.4');
      probes.push(other);
      expect(other.admitted).toBe(true);
      // The allowance comes back with time.
      await expect
        .poll(async () => {
          const p = await probe(tp.bootstrapPort, '127.0.0.3');
          probes.push(p);
          return p.admitted;
        })
        .toBe(true);
    } finally {
      for (const p of probes) p.socket.destroy();
      await tp.stop();
    }
  });

  it('refuses connections beyond maxConnections, and takes new ones once they close', async () => {
    const tp = await startTestProxy({ listenerLimits: { maxConnections: 10, maxNewConnectionsPerSecondPerIp: 1000 } });
    try {
      const first = await Promise.all(Array.from({ length: 10 }, (_, i) => probe(tp.bootstrapPort, `127.0.0.${10 + i}`)));
      expect(first.every((p) => p.admitted)).toBe(true);
      const excess = await Promise.all(Array.from({ length: 5 }, () => probe(tp.bootstrapPort, '127.0.0.30')));
      expect(excess.some((p) => p.admitted)).toBe(false);
      expect(await refusals(tp, 'max-connections')).toBe(5);
      expect(tp.logs.some((l) => l.msg === 'connection refused by a limit' && l.reason === 'max-connections')).toBe(true);
      for (const p of first) p.socket.destroy();
      await expect.poll(() => openConnections(tp, 'authenticated')).toBe(0);
      const again = await Promise.all(Array.from({ length: 10 }, () => probe(tp.bootstrapPort, '127.0.0.31')));
      expect(again.every((p) => p.admitted)).toBe(true);
      for (const p of again) p.socket.destroy();
    } finally {
      await tp.stop();
    }
  });
});

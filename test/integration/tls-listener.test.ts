import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { type Socket, connect as connectTcp } from 'node:net';
import { type ConnectionOptions, connect as connectTls, type PeerCertificate, type TLSSocket } from 'node:tls';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { FrameSplitter } from '../../src/protocol/frame-splitter.js';
import { RESPONSE_CODECS } from '../../src/protocol/generated/index.js';
import { readResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';
import { requestFrame } from '../../src/protocol/request-frame.js';
import { type Issued, issue, loopbackServer, makeCa, writePem } from '../support/certificates.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { kafkajsRoundTrip } from './helpers/kafkajs-round-trip.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * TLS on the proxy's listeners with kafkajs and raw TLS clients against the real cluster: SSL,
 * SASL_SSL with OAUTHBEARER, client certificates mapped to principals and enforced, certificate
 * rotation under load, SNI routing on one port, and every way a handshake can go wrong.
 */

const POLICY = `
roles:
  orders:
    - { topics: ["tls-orders-*"], operations: [read, write, create] }
    - { groups: ["g-tls-orders-*"], operations: [read] }
bindings:
  alice: [orders]
`;

/** kafkajs trusting `ca`, optionally presenting a client certificate. */
function kafkaOver(tp: TestProxy, ca: Issued, extra: Partial<KafkaConfig> & { client?: Issued } = {}): Kafka {
  const { client, ...config } = extra;
  return new Kafka({
    clientId: 'tls-test',
    brokers: [tp.bootstrap],
    logLevel: logLevel.NOTHING,
    ssl: { ca: [ca.cert], ...(client ? { cert: client.cert, key: client.key } : {}) },
    ...config,
  });
}

async function freshTopic(): Promise<string> {
  const topic = `tls-orders-${randomUUID().slice(0, 8)}`;
  await createTopic({ topic, numPartitions: 2, replicationFactor: inject('kafka').brokers.length });
  return topic;
}

/** Opens a TLS connection and settles with the server's certificate, or the error that ended the handshake. */
function tlsHandshake(port: number, options: ConnectionOptions = {}): Promise<{ socket: TLSSocket; peer: PeerCertificate } | { error: string }> {
  return new Promise((resolve) => {
    const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => resolve({ socket, peer: socket.getPeerCertificate() }));
    socket.once('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

/**
 * What happens to a TLS client that sends an ApiVersions request: the handshake's error code, or
 * `answered`, `closed` (the proxy ended it after the handshake) or `still open` after 10 s.
 */
async function outcomeOf(port: number, options: ConnectionOptions): Promise<string> {
  const handshake = await tlsHandshake(port, options);
  if ('error' in handshake) return handshake.error;
  return new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('still open'), 10_000);
    const settle = (outcome: string) => {
      clearTimeout(timer);
      handshake.socket.destroy();
      resolve(outcome);
    };
    handshake.socket.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message));
    handshake.socket.on('close', () => settle('closed'));
    handshake.socket.on('data', () => settle('answered'));
    handshake.socket.write(requestFrame(API_KEYS.ApiVersions, 3, 1, 'tls-test', { clientSoftwareName: 'x', clientSoftwareVersion: '1' }));
  });
}

/** One Metadata v12 request over an open socket, decoded. */
function metadataOver(socket: Socket): Promise<MetadataResponse> {
  return new Promise((resolve, reject) => {
    const splitter = new FrameSplitter(64 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk, (frame) => {
        const r = new Reader(frame, 4);
        readResponseHeader(r, API_KEYS.Metadata, 12);
        resolve(RESPONSE_CODECS[API_KEYS.Metadata].read(r, 12) as MetadataResponse);
      });
    });
    socket.once('error', reject);
    socket.write(requestFrame(API_KEYS.Metadata, 12, 1, 'tls-test', { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
  });
}

/** Resolves once the proxy has closed a connection that sent `bytes`. */
function closedAfter(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 10_000);
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('TLS listeners', () => {
  const ca = makeCa();
  const server = loopbackServer(ca);
  const certFile = writePem('server.pem', server.cert);
  const keyFile = writePem('server.key', server.key);
  const caFile = writePem('ca.pem', ca.cert);
  let issuer: DevIssuer;
  let sslPlain: TestProxy;
  let saslSsl: TestProxy;
  let mtls: TestProxy;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    [sslPlain, saslSsl, mtls] = await Promise.all([
      startTestProxy({ tls: { certFile, keyFile } }),
      startTestProxy(oauthListener(issuer, { tls: { certFile, keyFile } })),
      startTestProxy({
        authentication: ['MTLS'],
        tls: { certFile, keyFile, caFile, clientAuth: 'required', principalMappingRules: ['RULE:^CN=([^,]+),O=Acme$/$1/L'] },
        policy: POLICY,
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([sslPlain?.stop(), saslSsl?.stop(), mtls?.stop()]);
    await issuer?.stop();
  });

  it('SSL: kafkajs produces and consumes over TLS, and every address it learns is the proxy’s', async () => {
    await kafkajsRoundTrip(kafkaOver(sslPlain, ca), await freshTopic(), 20);
    const handshake = await tlsHandshake(sslPlain.bootstrapPort, { ca: ca.cert, rejectUnauthorized: true });
    if ('error' in handshake) throw new Error(handshake.error);
    const md = await metadataOver(handshake.socket);
    handshake.socket.destroy();
    expect(md.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...sslPlain.brokerPorts.values()].map((p) => `127.0.0.1:${p}`).sort());
  });

  it('SASL_SSL: kafkajs authenticates with OAUTHBEARER over TLS', async () => {
    const token = await issuer.mint({ subject: 'svc-writer', roles: [] });
    const kafka = kafkaOver(saslSsl, ca, { sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) } });
    await kafkajsRoundTrip(kafka, await freshTopic(), 20);
    expect(saslSsl.logs).toContainEqual(expect.objectContaining({ msg: 'authenticated', principal: 'svc-writer', mechanism: 'OAUTHBEARER' }));
  });

  describe('client certificates (MTLS)', () => {
    it('maps the certificate subject to a principal, and the policy applies to it', async () => {
      const alice = issue(ca, { subject: [['O', 'Acme'], ['CN', 'Alice']], usage: 'client' });
      const kafka = kafkaOver(mtls, ca, { client: alice });
      await kafkajsRoundTrip(kafka, await freshTopic(), 10);
      // The same principal may not touch a topic outside its grants.
      const hidden = `hidden-${randomUUID().slice(0, 8)}`;
      await createTopic({ topic: hidden, numPartitions: 1, replicationFactor: inject('kafka').brokers.length });
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      await expect(producer.send({ topic: hidden, messages: [{ value: 'x' }] })).rejects.toThrow(/not authorized|authorization/i);
      await producer.disconnect();
      expect(mtls.logs).toContainEqual(expect.objectContaining({ msg: 'authorization denied', principal: 'alice' }));
    });

    it('refuses a certificate no rule maps, an untrusted one, an expired one and none at all, each logged', async () => {
      const unmapped = issue(ca, { subject: [['O', 'Other'], ['CN', 'mallory']], usage: 'client' });
      const otherCa = makeCa('another CA');
      const untrusted = issue(otherCa, { subject: [['O', 'Acme'], ['CN', 'eve']], usage: 'client' });
      const expired = issue(ca, { subject: [['O', 'Acme'], ['CN', 'old']], usage: 'client', notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
      // TLS 1.3 reports the server's refusal after the client's side of the handshake: the connection just ends.
      for (const client of [unmapped, untrusted, expired, undefined]) {
        const outcome = await outcomeOf(mtls.bootstrapPort, { ca: ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}) });
        expect(['answered', 'still open']).not.toContain(outcome);
      }
      await expect
        .poll(() => mtls.logs.filter((l) => l.msg === 'TLS handshake failed' || (l.msg === 'authentication failed' && l.mechanism === 'MTLS')).map((l) => l.reason as string))
        .toEqual(
          expect.arrayContaining([
            'no principal mapping rule applies to the certificate subject CN=mallory,O=Other',
            'client certificate refused: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
            'client certificate refused: CERT_HAS_EXPIRED',
            expect.stringMatching(/PEER_DID_NOT_RETURN_A_CERTIFICATE|none presented/),
          ]),
        );
      const failures = await mtls.proxy.metrics.registry.getSingleMetric('kafka_proxy_tls_handshake_failures_total')!.get();
      expect(failures.values.reduce((n, v) => n + v.value, 0)).toBeGreaterThanOrEqual(3);
      // Nothing else is affected: a good client still works.
      const alice = issue(ca, { subject: [['O', 'Acme'], ['CN', 'alice']], usage: 'client' });
      await kafkajsRoundTrip(kafkaOver(mtls, ca, { client: alice }), await freshTopic(), 5);
    });
  });

  it('closes plaintext bytes sent to a TLS listener, and a TLS handshake sent to a plaintext one, affecting nothing else', async () => {
    const plaintextApiVersions = requestFrame(API_KEYS.ApiVersions, 3, 1, 'tls-test', { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    expect(await closedAfter(sslPlain.bootstrapPort, plaintextApiVersions)).toBe(true);
    await expect.poll(() => sslPlain.logs.some((l) => l.msg === 'TLS handshake failed' && typeof l.reason === 'string' && l.reason !== '')).toBe(true);
    const plaintextProxy = await startTestProxy();
    try {
      expect('error' in (await tlsHandshake(plaintextProxy.bootstrapPort))).toBe(true);
    } finally {
      await plaintextProxy.stop();
    }
    await kafkajsRoundTrip(kafkaOver(sslPlain, ca), await freshTopic(), 5);
  });

  it('closes a client that never finishes the handshake after authenticationTimeoutMs, counted as a timeout', async () => {
    const tp = await startTestProxy({ tls: { certFile, keyFile }, listenerLimits: { authenticationTimeoutMs: 500, failedAuthenticationDelayMs: 0 } });
    try {
      const started = Date.now();
      // A TCP connection that sends nothing at all.
      expect(await closedAfter(tp.bootstrapPort, Buffer.alloc(0))).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      const failures = await tp.proxy.metrics.registry.getSingleMetric('kafka_proxy_tls_handshake_failures_total')!.get();
      expect(failures.values).toEqual([expect.objectContaining({ labels: { listener: 'test', reason: 'timeout' }, value: 1 })]);
      expect(tp.proxy.listeners[0].connectionCount).toBe(0);
    } finally {
      await tp.stop();
    }
  });

  it('rotates the certificate while a producer runs: new connections get the new one, the live producer carries on', async () => {
    const rotatingCert = writePem('rotating.pem', server.cert);
    const rotatingKey = writePem('rotating.key', server.key);
    const tp = await startTestProxy({ tls: { certFile: rotatingCert, keyFile: rotatingKey } });
    try {
      const topic = await freshTopic();
      const producer = kafkaOver(tp, ca).producer();
      await producer.connect();
      let sent = 0;
      let failed: unknown;
      let running = true;
      const load = (async () => {
        while (running) {
          await producer.send({ topic, messages: [{ value: `r${sent}` }] }).then(
            () => sent++,
            (e: unknown) => (failed = e),
          );
        }
      })();
      const before = await tlsHandshake(tp.bootstrapPort);
      if ('error' in before) throw new Error(before.error);
      // A TLS 1.3 ticket arrives after the handshake: wait for it, to resume with it after the rotation.
      const ticket = await new Promise<Buffer>((resolve) => before.socket.once('session', resolve));
      before.socket.destroy();
      // cert-manager writes new files and renames them into place: key first, then certificate.
      const next = loopbackServer(ca);
      writeFileSync(`${rotatingKey}.new`, next.key);
      renameSync(`${rotatingKey}.new`, rotatingKey);
      writeFileSync(`${rotatingCert}.new`, next.cert);
      renameSync(`${rotatingCert}.new`, rotatingCert);
      await tp.proxy.reload();
      const after = await tlsHandshake(tp.bootstrapPort);
      if ('error' in after) throw new Error(after.error);
      after.socket.destroy();
      expect(after.peer.serialNumber).not.toBe(before.peer.serialNumber);
      // Session tickets issued before the rotation still resume: clients need not all do full handshakes at once.
      const resumed = await tlsHandshake(tp.bootstrapPort, { session: ticket });
      if ('error' in resumed) throw new Error(resumed.error);
      expect(resumed.socket.isSessionReused()).toBe(true);
      resumed.socket.destroy();
      expect(after.peer.serialNumber.toLowerCase()).toBe(next.forgeCert.serialNumber.toLowerCase());
      const sentAtRotation = sent;
      await expect.poll(() => sent, { timeout: 10_000 }).toBeGreaterThan(sentAtRotation + 20);
      running = false;
      await load;
      await producer.disconnect();
      expect(failed).toBeUndefined();
      expect(tp.logs).toContainEqual(expect.objectContaining({ msg: 'TLS certificate reloaded; new connections use it' }));
      const expiry = await tp.proxy.metrics.registry.getSingleMetric('kafka_proxy_tls_certificate_expiry_timestamp_seconds')!.get();
      expect(expiry.values).toEqual([
        expect.objectContaining({ labels: { listener: 'test', certificate: 'server' }, value: Math.floor(next.forgeCert.validity.notAfter.getTime() / 1000) }),
      ]);
    } finally {
      await tp.stop();
    }
  });

  it('keeps the previous certificate when the new files are broken, and says why', async () => {
    const brokenCert = writePem('broken.pem', server.cert);
    const brokenKey = writePem('broken.key', server.key);
    const tp = await startTestProxy({ tls: { certFile: brokenCert, keyFile: brokenKey } });
    try {
      // A certificate whose key was not replaced with it.
      writeFileSync(brokenCert, loopbackServer(ca).cert);
      await tp.proxy.reload();
      expect(tp.logs).toContainEqual(expect.objectContaining({ msg: 'cannot reload the TLS certificate; new connections keep the previous one' }));
      const handshake = await tlsHandshake(tp.bootstrapPort);
      if ('error' in handshake) throw new Error(handshake.error);
      handshake.socket.destroy();
      expect(handshake.peer.serialNumber.toLowerCase()).toBe(server.forgeCert.serialNumber.toLowerCase());
    } finally {
      await tp.stop();
    }
  });

  it('SNI routing: one port serves the bootstrap and every broker by name; unknown names are refused and logged', async () => {
    const sniServer = loopbackServer(ca, ['bootstrap.kafka.test', '*.kafka.test']);
    const tp = await startTestProxy({
      tls: { certFile: writePem('sni.pem', sniServer.cert), keyFile: writePem('sni.key', sniServer.key) },
      sni: { bootstrapHost: 'bootstrap.kafka.test', brokerHostPattern: 'broker-{nodeId}.kafka.test' },
    });
    try {
      const open = async (servername: string) => {
        const handshake = await tlsHandshake(tp.bootstrapPort, { servername, ca: ca.cert, rejectUnauthorized: true });
        if ('error' in handshake) throw new Error(`${servername}: ${handshake.error}`);
        return handshake.socket;
      };
      const bootstrap = await open('bootstrap.kafka.test');
      const md = await metadataOver(bootstrap);
      bootstrap.destroy();
      const nodeIds = inject('kafka').brokers.map((b) => b.nodeId);
      expect(md.brokers.map((b) => `${b.nodeId}=${b.host}:${b.port}`).sort()).toEqual(nodeIds.map((id) => `${id}=broker-${id}.kafka.test:${tp.bootstrapPort}`).sort());
      // Each broker name reaches that broker: its Metadata names the same cluster.
      for (const id of nodeIds) {
        const socket = await open(`broker-${id}.kafka.test`);
        expect((await metadataOver(socket)).clusterId).toBe(md.clusterId);
        socket.destroy();
      }
      // kafkajs, dialing the names on loopback, produces and consumes through the one port.
      const kafka = new Kafka({
        clientId: 'sni-test',
        brokers: [`bootstrap.kafka.test:${tp.bootstrapPort}`],
        logLevel: logLevel.NOTHING,
        ssl: { ca: [ca.cert] },
        socketFactory: ({ host, port, ssl, onConnect }) => connectTls({ host: '127.0.0.1', port, servername: host, ...ssl }, onConnect),
      });
      await kafkajsRoundTrip(kafka, await freshTopic(), 10);
      for (const name of ['unknown.kafka.test', 'broker-x.kafka.test', 'broker-99999999999.kafka.test', undefined]) {
        expect(await outcomeOf(tp.bootstrapPort, { servername: name }), name).toBe('closed');
      }
      await expect
        .poll(() => tp.logs.filter((l) => l.msg === 'TLS handshake failed').map((l) => l.reason))
        .toEqual(
          expect.arrayContaining([
            'server name "unknown.kafka.test" is not served by this listener',
            'no server name (SNI): connect by name to a listener with sni routing',
          ]),
        );
    } finally {
      await tp.stop();
    }
  });
});

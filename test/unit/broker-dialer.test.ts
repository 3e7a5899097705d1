import type { AddressInfo } from 'node:net';
import { type Socket, createServer as createTcpServer } from 'node:net';
import { type Server, type TLSSocket, createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { type BrokerDialer, PLAINTEXT_DIALER, type UpstreamTlsConfig, brokerDialer } from '../../src/proxy/broker-dialer.js';
import { type Issued, issue, loopbackServer, makeCa, writePem } from '../support/certificates.js';

/** upstream.tls as the config loader makes it (defaults applied). */
function upstreamTls(tls: Record<string, unknown>): UpstreamTlsConfig {
  const config = configSchema.parse({ upstream: { bootstrapServers: ['127.0.0.1:9092'], tls }, listeners: [{ name: 'l', port: 9000, advertisedHost: '127.0.0.1', brokerPorts: { base: 9100 }, authentication: 'none' }] });
  return config.upstream.tls!;
}

type Outcome = { ok: true; socket: Socket } | { ok: false; reason: string; handshake: boolean };

function dial(dialer: BrokerDialer, host: string, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = dialer.dial(
      host,
      port,
      () => {
        socket.on('error', () => {});
        resolve({ ok: true, socket });
      },
      (reason, handshake) => resolve({ ok: false, reason, handshake }),
    );
  });
}

/** The test brokers end each connection once they have seen its handshake. */
function closedByBroker(socket: Socket): Promise<void> {
  socket.resume();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

interface TlsBroker {
  server: Server;
  port: number;
  /** Server names the clients sent (SNI), '' for none. */
  serverNames: string[];
  /** Subject CN of each client certificate presented. */
  clientCerts: string[];
}

async function tlsBroker(cert: Issued, clientCa?: Issued): Promise<TlsBroker> {
  const serverNames: string[] = [];
  const clientCerts: string[] = [];
  const server = createServer({ cert: cert.cert, key: cert.key, ca: clientCa?.cert, requestCert: clientCa !== undefined, rejectUnauthorized: clientCa !== undefined }, (s: TLSSocket) => {
    serverNames.push((s as TLSSocket & { servername?: string | false }).servername || '');
    const peer = s.getPeerCertificate();
    if (peer && peer.subject) clientCerts.push(String(peer.subject.CN));
    s.on('error', () => {});
    s.end();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, serverNames, clientCerts };
}

describe('broker dialer', () => {
  const ca = makeCa('dialer test CA');
  const otherCa = makeCa('some other CA');
  const caFile = writePem('ca.pem', ca.cert);
  const otherCaFile = writePem('other-ca.pem', otherCa.cert);
  const client = issue(ca, { subject: [['CN', 'kafka-auth-proxy']], usage: 'client', keyPassword: 'secret' });
  const certFile = writePem('client.pem', client.cert);
  const keyFile = writePem('client.key', client.key);
  let loopback: TlsBroker;
  let elsewhere: TlsBroker;
  let mutual: TlsBroker;

  beforeAll(async () => {
    loopback = await tlsBroker(loopbackServer(ca));
    elsewhere = await tlsBroker(issue(ca, { subject: [['CN', 'kafka.example.test']], dnsNames: ['kafka.example.test'] }));
    mutual = await tlsBroker(loopbackServer(ca), ca);
  });

  afterAll(() => {
    for (const b of [loopback, elsewhere, mutual]) b?.server.close();
  });

  it('is plaintext without upstream.tls', () => {
    expect(brokerDialer(undefined)).toBe(PLAINTEXT_DIALER);
  });

  it('names the file it cannot read, and a key it cannot use', () => {
    expect(() => brokerDialer(upstreamTls({ caFile: '/nonexistent/ca.pem' }))).toThrow('upstream.tls.caFile: cannot read /nonexistent/ca.pem: ENOENT');
    expect(() => brokerDialer(upstreamTls({ caFile: '/etc/hostname' }))).toThrow(`upstream.tls.caFile: /etc/hostname holds no PEM block`);
    expect(() => brokerDialer(upstreamTls({ caFile, certFile, keyFile: '/nonexistent/key.pem' }))).toThrow('upstream.tls.keyFile: cannot read /nonexistent/key.pem');
    expect(() => brokerDialer(upstreamTls({ caFile, certFile, keyFile, keyPassword: 'wrong' }))).toThrow(`upstream.tls: cannot use caFile ${caFile}, certFile ${certFile}, keyFile ${keyFile} (with keyPassword)`);
  });

  it('checks the chain and the name, sends SNI for DNS names only', async () => {
    const dialer = brokerDialer(upstreamTls({ caFile }));
    expect(dialer.tls).toBe(true);
    for (const host of ['localhost', '127.0.0.1']) {
      const outcome = await dial(dialer, host, loopback.port);
      expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
      if (outcome.ok) await closedByBroker(outcome.socket);
    }
    await expect.poll(() => loopback.serverNames).toEqual(['localhost', '']);
  });

  it('fails a certificate from another CA with the verify error code', async () => {
    const outcome = await dial(brokerDialer(upstreamTls({ caFile: otherCaFile })), '127.0.0.1', loopback.port);
    expect(outcome).toEqual({ ok: false, handshake: true, reason: 'TLS handshake failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate' });
  });

  it('fails a certificate for another name unless checkServerName is false', async () => {
    const outcome = await dial(brokerDialer(upstreamTls({ caFile })), 'localhost', elsewhere.port);
    expect(outcome).toMatchObject({ ok: false, handshake: true, reason: expect.stringContaining('ERR_TLS_CERT_ALTNAME_INVALID') });
    const unchecked = await dial(brokerDialer(upstreamTls({ caFile, checkServerName: false })), 'localhost', elsewhere.port);
    expect(unchecked.ok).toBe(true);
    if (unchecked.ok) await closedByBroker(unchecked.socket);
    // The chain is still checked when the name is not.
    const untrusted = await dial(brokerDialer(upstreamTls({ caFile: otherCaFile, checkServerName: false })), 'localhost', elsewhere.port);
    expect(untrusted).toMatchObject({ ok: false, handshake: true, reason: expect.stringContaining('UNABLE_TO_VERIFY_LEAF_SIGNATURE') });
  });

  it('presents the client certificate (with its key password) to a broker that asks', async () => {
    const outcome = await dial(brokerDialer(upstreamTls({ caFile, certFile, keyFile, keyPassword: 'secret' })), 'localhost', mutual.port);
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    if (outcome.ok) await closedByBroker(outcome.socket);
    await expect.poll(() => mutual.clientCerts).toEqual(['kafka-auth-proxy']);
  });

  it('reports an unreachable broker as before, not as a handshake failure', async () => {
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    for (const dialer of [PLAINTEXT_DIALER, brokerDialer(upstreamTls({ caFile }))]) {
      expect(await dial(dialer, '127.0.0.1', port)).toEqual({ ok: false, handshake: false, reason: `connect ECONNREFUSED 127.0.0.1:${port}` });
    }
  });
});

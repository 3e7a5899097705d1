import { type AddressInfo, type Server, type Socket, connect as tcpConnect, createServer } from 'node:net';
import pino from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HandshakeResult, ListenerTls, type ListenerTlsConfig } from '../../src/proxy/listener-tls.js';
import { newTicketSecret, ticketKeysFor } from '../../src/tls/ticket-keys.js';
import { loopbackServer, makeCa, writePem } from '../support/certificates.js';
import { tlsHandshake } from '../support/tls-handshake.js';

const log = pino({ level: 'silent' });

/** A listening socket that hands every connection to `tls`, as a listener does; `results` collects what each handshake gave. */
async function serve(tls: ListenerTls): Promise<{ server: Server; port: number; results: HandshakeResult[] }> {
  const results: HandshakeResult[] = [];
  const server = createServer((socket) => tls.handshake(socket, (r) => results.push(r)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, results };
}

describe('ListenerTls', () => {
  let config: ListenerTlsConfig;
  let ca: string;
  const stops: Array<() => void> = [];

  beforeAll(() => {
    const authority = makeCa();
    const server = loopbackServer(authority);
    ca = authority.cert;
    config = { certFile: writePem('server.pem', server.cert), keyFile: writePem('server.key', server.key), clientAuth: 'none', minVersion: 'TLSv1.2', principalMappingRules: ['DEFAULT'] };
  });

  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  async function listenerTls(limits: { authenticationTimeoutMs: number }, ticketKeys?: Buffer) {
    const tls = await ListenerTls.start(config, limits, log, () => {}, { ticketKeys });
    const served = await serve(tls);
    stops.push(() => {
      tls.stop();
      served.server.close();
    });
    return served;
  }

  it('ends a handshake that never comes after the authenticationTimeoutMs the limits hold now, not the one it started with', async () => {
    const limits = { authenticationTimeoutMs: 60_000 };
    const { port, results } = await listenerTls(limits);
    // A reload lowers it in place (Object.assign on the same limits object).
    limits.authenticationTimeoutMs = 300;
    const silent: Socket = tcpConnect(port, '127.0.0.1');
    const closed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    silent.on('error', () => {});
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(results).toEqual([{ failed: 'timeout', reason: 'no TLS handshake within 300 ms' }]);
  });

  it('a ticket from one process resumes on another given the same ticket keys (workers of one proxy)', async () => {
    const keys = ticketKeysFor(newTicketSecret(), 'secure');
    const [a, b] = [await listenerTls({ authenticationTimeoutMs: 5_000 }, keys), await listenerTls({ authenticationTimeoutMs: 5_000 }, keys)];
    const first = await tlsHandshake(a.port, ca);
    expect(first.resumed).toBe(false);
    const onB = await tlsHandshake(b.port, ca, first.session);
    expect(onB.resumed).toBe(true);
    // A resumed handshake may bring no new ticket: the client keeps the one it has.
    const backOnA = await tlsHandshake(a.port, ca, onB.session ?? first.session);
    expect(backOnA.resumed).toBe(true);
  });

  it('tickets do not resume across listeners, nor without shared keys', async () => {
    const secret = newTicketSecret();
    const [a, other, own] = [
      await listenerTls({ authenticationTimeoutMs: 5_000 }, ticketKeysFor(secret, 'secure')),
      await listenerTls({ authenticationTimeoutMs: 5_000 }, ticketKeysFor(secret, 'mtls')),
      await listenerTls({ authenticationTimeoutMs: 5_000 }),
    ];
    const first = await tlsHandshake(a.port, ca);
    expect((await tlsHandshake(other.port, ca, first.session)).resumed).toBe(false);
    expect((await tlsHandshake(own.port, ca, first.session)).resumed).toBe(false);
  });
});

describe('ticketKeysFor', () => {
  it('gives 48 bytes, the same for the same secret and listener, different for another listener or secret', () => {
    const secret = newTicketSecret();
    const keys = ticketKeysFor(secret, 'secure');
    expect(keys.length).toBe(48);
    expect(ticketKeysFor(Buffer.from(secret), 'secure').equals(keys)).toBe(true);
    expect(ticketKeysFor(secret, 'secure2').equals(keys)).toBe(false);
    expect(ticketKeysFor(newTicketSecret(), 'secure').equals(keys)).toBe(false);
  });
});

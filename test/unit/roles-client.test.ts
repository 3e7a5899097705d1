import { type IncomingMessage, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { RolesClient, RolesRequestError } from '../../src/roles/roles-client.js';
import { issue, loopbackServer, makeCa } from '../support/certificates.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const closers: (() => void)[] = [];
afterAll(() => closers.forEach((c) => c()));

async function httpService(handler: Handler): Promise<string> {
  const server = createHttpServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/roles?tenant=a`;
}

async function failure(client: RolesClient, principal = 'alice'): Promise<RolesRequestError> {
  const e = await client.rolesOf(principal).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RolesRequestError);
  return e as RolesRequestError;
}

describe('RolesClient (the permissions service contract)', () => {
  it('asks GET <url>?principal=..., keeping the URL\'s own query, with the bearer token, and takes {"roles": [...]}', async () => {
    let seen: { url?: string; auth?: string; accept?: string } = {};
    const url = await httpService((req, res) => {
      seen = { url: req.url, auth: req.headers.authorization, accept: req.headers.accept };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"principal": "User:a&b=c", "roles": ["reader", "writer"], "extra": 1}');
    });
    const client = new RolesClient({ url, timeoutMs: 1000, bearerToken: 'secret-token-1234' });
    expect(await client.rolesOf('User:a&b=c')).toEqual(['reader', 'writer']);
    expect(seen).toEqual({ url: '/v1/roles?tenant=a&principal=User%3Aa%26b%3Dc', auth: 'Bearer secret-token-1234', accept: 'application/json' });
    client.close();
  });

  it('takes 404 as a principal the service does not know: no roles', async () => {
    const client = new RolesClient({ url: await httpService((_req, res) => res.writeHead(404).end('who?')), timeoutMs: 1000 });
    expect(await client.rolesOf('nobody')).toEqual([]);
    client.close();
  });

  it('classifies every other answer as a failure, never quoting the body', async () => {
    const cases: [Handler, string, RegExp][] = [
      [(_q, r) => r.writeHead(503).end('secret-body'), 'server-error', /^HTTP 503$/],
      [(_q, r) => r.writeHead(401).end('secret-body'), 'unexpected-status', /^HTTP 401$/],
      [(_q, r) => r.writeHead(200).end('secret-body'), 'malformed', /not JSON/],
      [(_q, r) => r.writeHead(200).end('{"roles": "secret-body"}'), 'malformed', /roles/],
      [(_q, r) => r.writeHead(200).end(JSON.stringify({ roles: Array(1001).fill('r') })), 'malformed', /1000/],
      [(_q, r) => r.writeHead(200).end(JSON.stringify({ roles: ['x'.repeat(300_000)] })), 'too-large', /larger/],
    ];
    for (const [handler, kind, message] of cases) {
      const client = new RolesClient({ url: await httpService(handler), timeoutMs: 1000 });
      const e = await failure(client);
      expect([e.failure, e.message]).toEqual([kind, expect.stringMatching(message)]);
      expect(e.message).not.toContain('secret-body');
      client.close();
    }
  });

  it('gives up at its deadline on a silent or trickling service, and says so when nothing listens', async () => {
    const silent = new RolesClient({ url: await httpService(() => {}), timeoutMs: 200 });
    expect((await failure(silent)).failure).toBe('timeout');
    const trickle = new RolesClient({
      url: await httpService((_q, res) => {
        res.writeHead(200);
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
      }),
      timeoutMs: 300,
    });
    const started = Date.now();
    expect((await failure(trickle)).failure).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    const down = await httpService(() => {});
    closers.pop()!();
    await new Promise((r) => setTimeout(r, 50));
    expect((await failure(new RolesClient({ url: down, timeoutMs: 1000 }))).failure).toBe('unreachable');
    for (const c of [silent, trickle]) c.close();
  });

  it('over https, trusts the given CA and presents a client certificate (mTLS)', async () => {
    const ca = makeCa();
    const server = loopbackServer(ca);
    const clientCert = issue(ca, { subject: [['CN', 'kafka-auth-proxy']], usage: 'client' });
    const https = createHttpsServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
      res.writeHead(200).end(JSON.stringify({ roles: [`seen-${cn}`] }));
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    closers.push(() => https.close());
    const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}/roles`;
    const client = new RolesClient({ url, timeoutMs: 2000, tls: { ca: Buffer.from(ca.cert), cert: Buffer.from(clientCert.cert), key: Buffer.from(clientCert.key) } });
    expect(await client.rolesOf('alice')).toEqual(['seen-kafka-auth-proxy']);
    const anonymous = new RolesClient({ url, timeoutMs: 2000, tls: { ca: Buffer.from(ca.cert) } });
    expect((await failure(anonymous)).failure).toBe('unreachable');
    const untrusting = new RolesClient({ url, timeoutMs: 2000 });
    expect((await failure(untrusting)).failure).toBe('unreachable');
    for (const c of [client, anonymous, untrusting]) c.close();
  });
});

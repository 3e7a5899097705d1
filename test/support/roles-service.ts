import { type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RolesServiceFault = 'none' | 'error-500' | 'slow' | 'malformed';

/**
 * A permissions service for tests: answers GET /roles?principal=P with {"roles": [...]} from
 * `roles` (404 for a principal it does not have), counts requests per principal, and fails on
 * demand: 500s, answers slower than any timeout, bodies that are not the contract, or (stop) no
 * listener at all.
 */
export class RolesService {
  readonly roles = new Map<string, string[]>();
  readonly requests = new Map<string, number>();
  fault: RolesServiceFault = 'none';
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/roles`;
  }

  totalRequests(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }

  /** Listens (again, on the same port if it had one). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const principal = new URL(req.url ?? '/', 'http://x').searchParams.get('principal') ?? '';
      this.requests.set(principal, (this.requests.get(principal) ?? 0) + 1);
      if (this.fault === 'slow') return void setTimeout(() => res.destroyed || res.end('{"roles": []}'), 30_000).unref();
      if (this.fault === 'error-500') return void res.writeHead(500).end('down');
      if (this.fault === 'malformed') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"groups": 1}');
      const roles = this.roles.get(principal);
      if (!roles) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ principal, roles }));
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection: the service is down (connections refused). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/**
 * A JWKS endpoint on 127.0.0.1 for tests: serves whatever keys it is given, counts fetches,
 * and can fail (HTTP 503) or go away entirely to play an unreachable issuer.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

export class JwksServer {
  fetches = 0;
  failing = false;
  keys: JWK[];
  private constructor(
    private readonly server: Server,
    readonly url: string,
    keys: JWK[],
  ) {
    this.keys = keys;
  }

  static async start(keys: JWK[]): Promise<JwksServer> {
    let self: JwksServer | undefined;
    const server = createServer((req, res) => {
      if (!self || req.url !== '/jwks.json') return void res.writeHead(404).end();
      self.fetches += 1;
      if (self.failing) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: self.keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new JwksServer(server, `http://127.0.0.1:${port}/jwks.json`, keys);
    return self;
  }

  /** Stops listening: fetches now fail with ECONNREFUSED. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

import { type Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';

/** GET /metrics (Prometheus text format) and GET /healthz, on their own port, apart from Kafka traffic. */
export function startAdminServer(bind: string, port: number, registry: Registry): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    } else if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`admin server cannot listen on ${bind}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, bind, () => resolve(server));
  });
}

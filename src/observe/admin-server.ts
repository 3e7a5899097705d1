import { type Server, type ServerResponse, createServer } from 'node:http';

/** What the admin endpoint serves: the whole proxy's metrics, one worker's, and whether any worker accepts connections. */
export interface AdminSource {
  contentType: string;
  metrics(): Promise<string>;
  /** Undefined for a worker id that is not running. */
  workerMetrics(id: number): Promise<string | undefined>;
  healthy(): boolean;
}

const WORKER_QUERY = /^\/metrics\?worker=(\d+)$/;

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

/**
 * GET /metrics (Prometheus text format; /metrics?worker=N for one worker's own), and GET
 * /healthz (200 while at least one worker accepts connections, else 503), on their own port,
 * apart from Kafka traffic.
 */
export function startAdminServer(bind: string, port: number, source: AdminSource, onError: (e: Error) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    const worker = WORKER_QUERY.exec(url);
    if (req.method !== 'GET') {
      text(res, 405, 'only GET\n');
    } else if (url === '/metrics' || worker) {
      const metrics = worker ? source.workerMetrics(Number(worker[1])) : source.metrics();
      metrics.then(
        (body) => (body === undefined ? text(res, 404, `no running worker ${worker![1]}\n`) : res.writeHead(200, { 'content-type': source.contentType }).end(body)),
        (e: Error) => text(res, 500, `${e.message}\n`),
      );
    } else if (url === '/healthz') {
      if (source.healthy()) text(res, 200, 'ok\n');
      else text(res, 503, 'no worker accepts connections\n');
    } else {
      text(res, 404, 'not found: try /metrics, /metrics?worker=N or /healthz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`admin server cannot listen on ${bind}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, bind, () => {
      server.on('error', onError);
      resolve(server);
    });
  });
}

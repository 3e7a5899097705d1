import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';

/** What an admin call that changes something answers: an HTTP status and a JSON body. */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

/** Who asked for a change, for the warn line: what the caller says (`by`) and where it came from. */
export interface AdminCaller {
  by: string;
  address: string;
}

/** What the admin endpoint serves, for the whole proxy. */
export interface AdminSource {
  contentType: string;
  metrics(): Promise<string>;
  /** Undefined for a worker id that is not running. */
  workerMetrics(id: number): Promise<string | undefined>;
  /** Ready for traffic; the reasons when not. */
  readiness(): Promise<{ ready: boolean; notReady: string[] }>;
  status(): Promise<unknown>;
  setMode(listener: string, mode: unknown, caller: AdminCaller): Promise<AdminAnswer>;
  reload(caller: AdminCaller): Promise<AdminAnswer>;
}

/** The token callers must present (SHA-256 of it), or undefined when none is configured. */
export type AdminTokenDigest = () => Buffer | undefined;

const WORKER_QUERY = /^\/metrics\?worker=(\d+)$/;
const MODE_PATH = /^\/listeners\/([^/?#]+)\/mode$/;
/** Bodies of admin POSTs are a few bytes of JSON. */
const MAX_BODY_BYTES = 4096;
const MAX_BY_CHARS = 100;

const HELP = 'GET /healthz, /readyz, /status, /metrics, /metrics?worker=N; POST /listeners/{name}/mode {"mode": "enforce"|"audit"|"allow-all"}, POST /reload';

function send(res: ServerResponse, status: number, body: unknown): void {
  if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body.endsWith('\n') ? body : `${body}\n`);
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
}

function digest(text: string | Buffer): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether the request carries the token (compared in constant time, as digests). */
function authorized(req: IncomingMessage, token: Buffer | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  const presented = /^Bearer (.+)$/.exec(header)?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented.trim()), token);
}

/** The caller's own words for who they are, cut short and stripped of anything a log line should not carry. */
function callerName(value: unknown): string {
  if (typeof value !== 'string') return 'unknown';
  const cleaned = value.replace(/[^\w@.:+ -]/g, '').slice(0, MAX_BY_CHARS);
  return cleaned === '' ? 'unknown' : cleaned;
}

function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
        resolve(parsed as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`the body is not a JSON object: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

/**
 * The admin endpoint, on its own port, apart from Kafka traffic. GET /healthz (200 while the
 * process runs: liveness) and GET /readyz (200 once the proxy serves clients: readiness) answer
 * anyone, so probes need no secret; everything else needs `Authorization: Bearer <token>` when a
 * token is configured (it must be, beyond loopback). Changes are POSTs with a JSON content type,
 * which a web page cannot send to a loopback address without a CORS preflight this server never
 * answers.
 */
export function startAdminServer(bind: string, port: number, source: AdminSource, token: AdminTokenDigest, onError: (e: Error) => void): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req, res, source, token).catch((e: Error) => {
      if (!res.headersSent) send(res, 500, { error: e.message });
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`admin server cannot listen on ${bind}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, bind, () => {
      server.on('error', onError);
      resolve(server);
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, source: AdminSource, token: AdminTokenDigest): Promise<void> {
  const url = req.url ?? '';
  if (req.method === 'GET' && url === '/healthz') return send(res, 200, 'ok');
  if (req.method === 'GET' && url === '/readyz') {
    const { ready, notReady } = await source.readiness();
    return send(res, ready ? 200 : 503, ready ? 'ready' : `not ready: ${notReady.join('; ')}`);
  }
  if (!authorized(req, token())) {
    res.setHeader('www-authenticate', 'Bearer');
    return send(res, 401, 'missing or wrong bearer token');
  }
  const worker = WORKER_QUERY.exec(url);
  const mode = MODE_PATH.exec(url);
  if (req.method === 'GET' && (url === '/metrics' || worker)) {
    const body = worker ? await source.workerMetrics(Number(worker[1])) : await source.metrics();
    if (body === undefined) return send(res, 404, `no running worker ${worker![1]}`);
    res.writeHead(200, { 'content-type': source.contentType }).end(body);
    return;
  }
  if (req.method === 'GET' && url === '/status') return send(res, 200, await source.status());
  if (req.method === 'POST' && (mode || url === '/reload')) {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'POST needs content-type: application/json');
    let body: Record<string, unknown>;
    try {
      body = await readJsonBody(req);
    } catch (e) {
      return send(res, 400, { error: (e as Error).message });
    }
    const caller = { by: callerName(body.by), address: req.socket.remoteAddress ?? 'unknown' };
    if (mode && listenerName(mode[1]) === undefined) return send(res, 400, { error: 'the listener name in the path is not valid percent-encoding' });
    const answer = mode ? await source.setMode(listenerName(mode[1])!, body.mode, caller) : await source.reload(caller);
    return send(res, answer.status, answer.body);
  }
  const known = url === '/metrics' || url === '/status' || url === '/reload' || worker || mode;
  return send(res, known ? 405 : 404, `${known ? 'method not allowed' : 'not found'}: ${HELP}`);
}

function listenerName(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/** Reads the digest of a token file's content (surrounding whitespace ignored). */
export function tokenDigest(content: string): Buffer {
  return digest(content.trim());
}

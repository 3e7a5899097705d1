import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { z } from 'zod';

/** Why a roles request failed: a metric label and a log field, never the service's words. */
export type RolesFailure = 'timeout' | 'unreachable' | 'server-error' | 'unexpected-status' | 'malformed' | 'too-large' | 'breaker-open';

export class RolesRequestError extends Error {
  constructor(
    readonly failure: RolesFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A principal's roles are names like the policy's; a service answering thousands is broken, not generous. */
const MAX_ROLES = 1000;
const MAX_ROLE_CHARS = 255;
/** Far above any honest answer: a broken or hostile service cannot make the proxy hold megabytes. */
const MAX_RESPONSE_BYTES = 256 * 1024;

const answer = z.object({ roles: z.array(z.string().min(1).max(MAX_ROLE_CHARS)).max(MAX_ROLES) });

export interface RolesClientSettings {
  url: string;
  timeoutMs: number;
  /** Sent as `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** For https: the CA to trust, and a client certificate and key for mTLS (PEM). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/**
 * Asks the permissions service for one principal's roles: `GET <url>?principal=<principal>`,
 * answered 200 `{"roles": [...]}`, or 404 for a principal it does not know (no roles). Anything
 * else is a RolesRequestError. Connections are kept alive between requests.
 */
export class RolesClient {
  private readonly agent: HttpAgent;
  private readonly secure: boolean;

  constructor(private readonly settings: RolesClientSettings) {
    this.secure = new URL(settings.url).protocol === 'https:';
    this.agent = this.secure ? new HttpsAgent({ keepAlive: true, ...settings.tls }) : new HttpAgent({ keepAlive: true });
  }

  rolesOf(principal: string): Promise<string[]> {
    const url = new URL(this.settings.url);
    url.searchParams.set('principal', principal);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.bearerToken) headers.authorization = `Bearer ${this.settings.bearerToken}`;
    const request = this.secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: this.agent, headers, timeout: this.settings.timeoutMs }, (res) => {
        readAnswer(res).then(resolve, reject);
      });
      // The socket timeout covers a silent connection; the overall deadline a slow trickle.
      const deadline = setTimeout(() => req.destroy(new RolesRequestError('timeout', `no complete answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
      req.on('timeout', () => req.destroy(new RolesRequestError('timeout', `no complete answer within ${this.settings.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof RolesRequestError ? e : new RolesRequestError('unreachable', e.code ?? e.message)));
      req.on('close', () => clearTimeout(deadline));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function readAnswer(res: IncomingMessage): Promise<string[]> {
  const status = res.statusCode ?? 0;
  if (status === 404) {
    res.resume();
    return [];
  }
  if (status !== 200) {
    res.resume();
    throw new RolesRequestError(status >= 500 ? 'server-error' : 'unexpected-status', `HTTP ${status}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      res.destroy();
      throw new RolesRequestError('too-large', `answer larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    // JSON.parse quotes the input: keep the service's words out of logs.
    throw new RolesRequestError('malformed', 'answer is not JSON');
  }
  const parsed = answer.safeParse(body);
  if (!parsed.success) throw new RolesRequestError('malformed', `answer is not {"roles": [up to ${MAX_ROLES} names]}`);
  return parsed.data.roles;
}

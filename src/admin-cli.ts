import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { ProxyConfig } from './config/schema.js';
import type { ProxyWideStatus } from './workers/proxy-wide-status.js';

/** How the CLI reaches a running proxy's admin endpoint. */
export interface AdminTarget {
  url: string;
  token: string | undefined;
}

/** Long enough for a reload that restarts the workers (they may take a minute to accept). */
const REQUEST_TIMEOUT_MS = 180_000;

export const ADMIN_USAGE = `  kafka-auth-proxy admin status [--json]        what a running proxy serves (listeners, modes, policy, JWKS, brokers)
  kafka-auth-proxy admin mode <listener> <enforce|audit|allow-all>
                                                switch a listener's mode live (until switched back)
  kafka-auth-proxy admin reload                 re-read the config and every file (as SIGHUP)
    each with --config proxy.yaml (its admin section), or --url http://host:port [--token-file F]`;

/** The admin endpoint of the proxy that runs `config`: a wildcard bind is reached on loopback. */
export function adminTarget(config: ProxyConfig | undefined, url: string | undefined, tokenFile: string | undefined): AdminTarget {
  const file = tokenFile ?? config?.admin?.tokenFile;
  const token = file === undefined ? undefined : readFileSync(file, 'utf8').trim();
  if (url) return { url: url.replace(/\/+$/, ''), token };
  const admin = config?.admin;
  if (!admin) throw new Error('the config has no admin section: the proxy serves no admin endpoint (or give --url)');
  const host = admin.bind === '0.0.0.0' ? '127.0.0.1' : admin.bind === '::' ? '::1' : admin.bind;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${admin.port}`, token };
}

async function call(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: object): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = {};
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, { method, headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new Error(`cannot reach the admin endpoint at ${target.url}: ${why} (is the proxy running with an admin section?)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function failure(status: number, json: unknown, text: string): Error {
  const error = (json as { error?: string } | undefined)?.error;
  return new Error(`the proxy answered ${status}: ${error ?? text.trim()}`);
}

/** Who is asking, for the proxy's warn line. */
function caller(): string {
  return `${userInfo().username}@${hostname()} (kafka-auth-proxy admin)`;
}

/** The status as a few lines an operator reads at a glance. */
export function statusText(s: ProxyWideStatus): string {
  const lines = [s.ready ? `ready (generation ${s.generation}, ${s.workers.filter((w) => w.state === 'ready').length} workers accepting)` : `NOT READY: ${s.notReady.join('; ')}`];
  for (const l of s.listeners) {
    const auth = l.authentication.length ? l.authentication.join('+') : 'none';
    const override = l.override ? ` (switched live by ${l.override.by} at ${l.override.at}; the config says ${l.override.configuredMode})` : '';
    lines.push(`listener ${l.name} :${l.port} ${auth}${l.tls ? ' tls' : ''}: mode ${l.mode}${override}, ${l.connections.open} connections (${l.connections.unauthenticated} authenticating)`);
  }
  if (s.policy) lines.push(`policy ${s.policy.file}: sha256 ${s.policy.hash.slice(0, 16)}, loaded ${s.policy.loadedAt}, ${s.policy.roles} roles, ${s.policy.bindings} bindings`);
  if (s.jwks) {
    const age = s.jwks.ageSeconds === undefined ? 'never loaded' : `${s.jwks.ageSeconds} s old`;
    const failing = s.jwks.failures ? `, ${s.jwks.failures} failed fetches (${s.jwks.lastError ?? ''})` : '';
    lines.push(`jwks ${s.jwks.source}: ${s.jwks.keyIds.length} keys [${s.jwks.keyIds.join(', ')}], ${age}${s.jwks.fresh ? '' : ', STALE'}${failing}`);
  }
  lines.push(`brokers: ${s.brokers.map((b) => `${b.nodeId}=${b.host}:${b.port}`).join(', ') || 'none known'}`);
  return `${lines.join('\n')}\n`;
}

/** Runs `admin <command> ...`; resolves with what to print, rejects saying why it failed. */
export async function adminCommand(target: AdminTarget, args: string[], json: boolean): Promise<string> {
  const [command, ...rest] = args;
  if (command === 'status' && rest.length === 0) {
    const { status, json: body, text } = await call(target, 'GET', '/status');
    if (status !== 200) throw failure(status, body, text);
    return json ? text : statusText(body as ProxyWideStatus);
  }
  if (command === 'mode' && rest.length === 2) {
    const [listener, mode] = rest;
    const { status, json: body, text } = await call(target, 'POST', `/listeners/${encodeURIComponent(listener)}/mode`, { mode, by: caller() });
    if (status !== 200) throw failure(status, body, text);
    if (json) return text;
    const answer = body as { mode: string; configuredMode: string; override: boolean; workers: number };
    const lasting = answer.override ? `; the config file says ${answer.configuredMode}: this lasts until switched back, the config changes it, or the proxy restarts` : ' (as the config file says)';
    return `listener ${listener}: mode ${answer.mode} on ${answer.workers} workers${lasting}\n`;
  }
  if (command === 'reload' && rest.length === 0) {
    const { status, json: body, text } = await call(target, 'POST', '/reload', { by: caller() });
    if (status !== 200) throw failure(status, body, text);
    return json ? text : `reloaded: ${JSON.stringify(body)}\n`;
  }
  throw new Error(`unknown admin command: ${args.join(' ')}\nusage:\n${ADMIN_USAGE}`);
}

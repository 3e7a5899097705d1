/**
 * DEVELOPMENT ONLY: a local OAuth2 token issuer for the demo, tests and trying out clients.
 * Anyone who can reach it can mint any token through /mint; keys live in memory only.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, createLogger } from '../observe/logger.js';
import { BodyTooLarge, readBody, sendJson } from './http-io.js';
import { type MintOptions, type TokenSettings, mintToken } from './mint.js';
import { type DevIssuerAlg, SigningKeys } from './signing-keys.js';
import { type DevClient, OAuthError, parseTokenRequest } from './token-request.js';

export type { DevClient, MintOptions };

export interface DevIssuerOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** The `iss` of its tokens; defaults to its own base URL. */
  issuer?: string;
  audience?: string;
  alg?: DevIssuerAlg;
  /** Clients of the token endpoint, by client id. */
  clients?: Record<string, DevClient>;
  tokenLifetimeSeconds?: number;
  /** Claim (dotted path) that carries the roles. */
  rolesClaim?: string;
  /** How long a rotated-out key stays in the JWKS; defaults to the token lifetime. */
  keyGraceSeconds?: number;
  log?: Logger;
}

export interface DevIssuer {
  url: string;
  issuer: string;
  jwksUrl: string;
  tokenUrl: string;
  mint(options: MintOptions): Promise<string>;
  /** Starts signing with a new key; returns its kid. */
  rotateKey(): Promise<string>;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Token responses must not be cached (RFC 6749 §5.1). */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const host = options.host ?? '127.0.0.1';
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  const keys = await SigningKeys.create(options.alg ?? 'RS256', options.keyGraceSeconds ?? lifetimeSeconds);
  const clients = new Map(Object.entries(options.clients ?? {}));
  const log = (options.log ?? createLogger('info')).child({ component: 'dev-issuer' });

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const url = `http://${urlHost(host)}:${(server.address() as AddressInfo).port}`;
  const settings: TokenSettings = { issuer: options.issuer ?? url, audience: options.audience ?? 'kafka', rolesClaim: options.rolesClaim ?? 'roles', lifetimeSeconds };
  const endpoints = { jwksUrl: `${url}/jwks.json`, tokenUrl: `${url}/token` };

  const routes: Record<string, { method: string; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void }> = {
    '/jwks.json': { method: 'GET', handle: (_req, res) => sendJson(res, 200, keys.jwks()) },
    '/.well-known/openid-configuration': {
      method: 'GET',
      handle: (_req, res) =>
        sendJson(res, 200, {
          issuer: settings.issuer,
          jwks_uri: endpoints.jwksUrl,
          token_endpoint: endpoints.tokenUrl,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          id_token_signing_alg_values_supported: [keys.alg],
        }),
    },
    '/token': { method: 'POST', handle: (req, res) => issueToken(req, res) },
    '/mint': { method: 'POST', handle: (req, res) => mintFromRequest(req, res) },
  };

  async function issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const grant = parseTokenRequest(req.headers, await readBody(req, MAX_BODY_BYTES), clients);
      const { subject, roles } = grant.client;
      const token = await mintToken(keys, settings, { subject, roles, scope: grant.scope });
      log.info({ clientId: grant.clientId, subject, scope: grant.scope, kid: keys.current.kid }, 'token issued');
      const body = { access_token: token, token_type: 'Bearer', expires_in: lifetimeSeconds, ...(grant.scope === undefined ? {} : { scope: grant.scope }) };
      sendJson(res, 200, body, NO_STORE);
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      log.warn({ clientId: e.clientId, error: e.error, reason: e.message }, 'token request refused');
      const headers: Record<string, string> = e.status === 401 ? { ...NO_STORE, 'www-authenticate': 'Basic realm="dev-issuer"' } : NO_STORE;
      sendJson(res, e.status, { error: e.error, error_description: e.message }, headers);
    }
  }

  async function mintFromRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let request: MintOptions;
    try {
      request = mintRequest(JSON.parse(await readBody(req, MAX_BODY_BYTES)));
    } catch (e) {
      if (e instanceof BodyTooLarge) throw e;
      return sendJson(res, 400, { error: 'invalid_request', error_description: e instanceof SyntaxError ? 'body is not JSON' : (e as Error).message });
    }
    const token = await mintToken(keys, settings, request);
    log.info({ subject: request.subject, kid: keys.current.kid }, 'token minted');
    sendJson(res, 200, { token }, NO_STORE);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const route = routes[new URL(req.url ?? '/', url).pathname];
    if (!route) return sendJson(res, 404, { error: 'not_found' });
    if (req.method !== route.method) return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: route.method });
    Promise.resolve(route.handle(req, res)).catch((e: Error) => {
      const tooLarge = e instanceof BodyTooLarge;
      if (!tooLarge) log.error({ err: e.message, path: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, tooLarge ? 413 : 500, { error: tooLarge ? 'invalid_request' : 'server_error', error_description: tooLarge ? e.message : undefined });
    });
  });

  log.warn(
    { url, issuer: settings.issuer, ...endpoints, clients: [...clients.keys()] },
    'DEVELOPMENT-ONLY token issuer started: it signs tokens for anyone who can reach it; never use it in production',
  );

  return {
    url,
    issuer: settings.issuer,
    ...endpoints,
    mint: (mintOptions) => mintToken(keys, settings, mintOptions),
    rotateKey: async () => {
      const kid = await keys.rotate();
      log.info({ kid }, 'signing key rotated');
      return kid;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Checks a /mint body: {subject, roles?, expiresInSeconds?, claims?}. */
function mintRequest(body: unknown): MintOptions {
  const { subject, roles, expiresInSeconds, claims } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof subject !== 'string' || subject === '') throw new Error('"subject" must be a non-empty string');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((r) => typeof r === 'string'))) throw new Error('"roles" must be an array of strings');
  if (expiresInSeconds !== undefined && !Number.isFinite(expiresInSeconds)) throw new Error('"expiresInSeconds" must be a number');
  if (claims !== undefined && (typeof claims !== 'object' || claims === null || Array.isArray(claims))) throw new Error('"claims" must be an object');
  return { subject, roles: roles as string[] | undefined, expiresInSeconds: expiresInSeconds as number | undefined, claims: claims as Record<string, unknown> | undefined };
}

/** The host as it goes into a URL: a wildcard bind is reached on loopback, IPv6 in brackets. */
function urlHost(host: string): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return reachable.includes(':') ? `[${reachable}]` : reachable;
}

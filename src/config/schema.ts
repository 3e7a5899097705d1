import { z } from 'zod';
import { PrincipalMapper } from '../auth/tls/principal-mapping.js';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected "host:port"');
const port = z.number().int().min(1).max(65535);
/** SASL mechanisms, and MTLS: the principal from the client certificate, no SASL (Kafka's SSL listener). */
const mechanism = z.enum(['OAUTHBEARER', 'AWS_MSK_IAM', 'MTLS']);
const filePath = z.string().min(1);

/** Addresses only this host can reach. */
function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bind);
}

const brokerPorts = z.union([
  z.strictObject({
    base: port.describe('Broker node id N is served on port base + N.'),
  }),
  z.strictObject({
    map: z.record(z.string().regex(/^\d+$/, 'node ids are non-negative integers'), port).describe('Explicit node id -> port; a node id missing here cannot be reached through the proxy.'),
  }),
]);

/**
 * Per listener (its bootstrap port and broker ports together). The defaults leave room for real
 * clients (one connection per broker each, reconnect bursts after a rolling restart) and stop one
 * host or a flood of half-open SASL exchanges from taking the listener.
 */
const listenerLimits = z
  .strictObject({
    maxConnections: z.number().int().min(1).default(10_000).describe("Open connections (Kafka: max.connections); Amazon MSK allows 3,000 per broker, so ~3 brokers' worth."),
    maxUnauthenticatedConnections: z.number().int().min(1).default(1000).describe('Connections still authenticating; only SASL listeners have any (`authentication: none` connections count as authenticated).'),
    maxUnauthenticatedConnectionsPerIp: z.number().int().min(1).default(50).describe("Connections still authenticating from one client IP (an IPv6 client counts as its /64): a handshake takes milliseconds, so 50 at once from one host is already a reconnect storm, and one host cannot take the listener's unauthenticated places from everyone else."),
    maxConnectionsPerIp: z.number().int().min(1).default(1000).describe("Open connections from one client IP, an IPv6 client as its /64 (Kafka: max.connections.per.ip): a tenant's host or NAT gets a tenth of the listener."),
    maxNewConnectionsPerSecondPerIp: z.number().int().min(1).default(100).describe('New connections accepted per second from one client IP (IPv6: per /64), with a burst of as many (Amazon MSK: 20 per second per broker).'),
    authenticationTimeoutMs: z.number().int().min(100).default(10_000).describe('A SASL connection not authenticated within this long is closed (real clients need milliseconds; a slow token fetch, a few seconds).'),
    failedAuthenticationDelayMs: z.number().int().min(0).default(100).describe('Wait before answering a failed authentication and closing (Kafka: connection.failed.authentication.delay.ms).'),
  })
  .prefault({})
  .refine((l) => l.failedAuthenticationDelayMs < l.authenticationTimeoutMs, {
    path: ['failedAuthenticationDelayMs'],
    message: 'must be below authenticationTimeoutMs, or a failed client is cut off before its answer',
  });

/**
 * A listener's TLS: it then speaks SSL (`authentication: none` or `[MTLS]`) or SASL_SSL. The
 * files are read again when they change, for new connections only.
 */
const listenerTls = z.strictObject({
  certFile: filePath.describe("PEM certificate chain, the listener's own certificate first."),
  keyFile: filePath.describe('PEM private key of that certificate.'),
  keyPassword: z.string().min(1).optional().describe('Password of an encrypted key.'),
  caFile: filePath.optional().describe('PEM CA bundle client certificates are checked against (needed for clientAuth requested or required).'),
  clientAuth: z.enum(['none', 'requested', 'required']).default('none').describe("Kafka's ssl.client.auth: ask for a client certificate, and whether it must be there."),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Oldest TLS version accepted from clients.'),
  ciphers: z.string().min(1).optional().describe("OpenSSL cipher list for TLS 1.2; Node's defaults when unset."),

  principalMappingRules: z
    .array(z.string().min(1))
    .min(1)
    .default(['DEFAULT'])
    .superRefine((rules, ctx) => {
      try {
        PrincipalMapper.parse(rules);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }).describe("How a certificate subject becomes a principal, as Kafka's ssl.principal.mapping.rules."),
});

/** One port for the bootstrap and every broker, told apart by the TLS server name (SNI). */
const sniRouting = z.strictObject({
  bootstrapHost: z.string().min(1).describe('The name clients bootstrap with.'),
  brokerHostPattern: z.string().regex(/\{nodeId\}/, 'must contain {nodeId}').describe("Each broker's advertised name; `{nodeId}` stands for the node id, e.g. \"broker-{nodeId}.kafka.example.com\"."),
});

const listener = z
  .strictObject({
    name: z.string().min(1).describe('Names the listener in logs, metrics, recordings and the admin endpoint; unique.'),
    bind: z.string().min(1).default('0.0.0.0').describe('Address the listener binds (bootstrap and broker ports).'),
    port: port.describe('The bootstrap port clients are given.'),
    advertisedHost: z.string().min(1).optional().describe('The host advertised with broker ports (not used with sni).'),
    brokerPorts: brokerPorts.optional().describe('A port per broker: `base` (node id N on base + N) or an explicit `map` of node id to port.'),
    sni: sniRouting.optional().describe('Instead of brokerPorts: one TLS port for the bootstrap and every broker, routed by server name.'),
    tls: listenerTls.optional().describe('TLS for this listener (SSL, SASL_SSL or MTLS); certificate files are re-read when they change.'),
    authentication: z.union([z.literal('none'), z.array(mechanism).min(1)]).describe('`none` (a plaintext or TLS listener without SASL: everyone is ANONYMOUS) or the SASL mechanisms offered (OAUTHBEARER, AWS_MSK_IAM), or [MTLS].'),
    mode: z.enum(['enforce', 'audit', 'allow-all']).default('enforce').describe('enforce: denied requests are refused; audit: denials are logged and the request goes through; allow-all: no policy check.'),

    modeOverrides: z
      .record(z.string().min(1), z.enum(['enforce', 'audit']))
      .optional().describe("Principals (exact, or a prefix ending in `*`) whose sessions take another mode than the listener's enforce or audit, so teams switch one at a time; an allow-all listener lets everyone through."),
    limits: listenerLimits.describe('Connection limits of this listener (its bootstrap and broker ports together).'),
    rolesOffline: z.enum(['last-known', 'deny', 'audit', 'allow-all']).default('last-known').describe("What a session gets while its principal's roles cannot be had from rolesSource (docs/authorization.md, \"Roles from a permissions service\"): the last roles the service gave (up to maxStaleSeconds, then as deny), none of the service's roles, the listener's decisions audited only, or everything allowed."),
    recordAccess: z.boolean().optional().describe('Record who uses what here (needs accessRecording); default: on for `authentication: none` and audit listeners.'),
  })
  .superRefine((l, ctx) => {
    if (l.sni) {
      if (!l.tls) ctx.addIssue({ code: 'custom', path: ['sni'], message: 'SNI routing needs a tls section: the server name travels in the TLS handshake' });
      if (l.brokerPorts) ctx.addIssue({ code: 'custom', path: ['brokerPorts'], message: 'a listener routes by sni or by brokerPorts, not both' });
    } else {
      if (!l.brokerPorts) ctx.addIssue({ code: 'custom', path: ['brokerPorts'], message: 'set brokerPorts (a port per broker) or sni (one port, routed by server name)' });
      if (!l.advertisedHost) ctx.addIssue({ code: 'custom', path: ['advertisedHost'], message: 'brokerPorts needs the advertisedHost clients connect to' });
    }
    const mechanisms = l.authentication === 'none' ? [] : l.authentication;
    if (mechanisms.includes('MTLS')) {
      if (mechanisms.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['authentication'],
          message: 'MTLS stands alone; for SASL with client certificates set tls.clientAuth: required and list the SASL mechanisms (the principal then comes from SASL, as on Kafka)',
        });
      }
      if (l.tls?.clientAuth !== 'required') ctx.addIssue({ code: 'custom', path: ['tls', 'clientAuth'], message: 'MTLS needs tls.clientAuth: required' });
    }
    for (const pattern of Object.keys(l.modeOverrides ?? {})) {
      if (pattern.slice(0, -1).includes('*')) ctx.addIssue({ code: 'custom', path: ['modeOverrides', pattern], message: 'a principal pattern is a name or a prefix ending in *; * may only come last' });
    }
    if (l.modeOverrides && l.authentication === 'none') {
      ctx.addIssue({ code: 'custom', path: ['modeOverrides'], message: 'every client of a listener without authentication is ANONYMOUS: set the listener mode instead' });
    }
    if (l.tls && l.tls.clientAuth !== 'none' && !l.tls.caFile) ctx.addIssue({ code: 'custom', path: ['tls', 'caFile'], message: `clientAuth ${l.tls.clientAuth} needs a caFile to check client certificates against` });
  });

/** TLS to the brokers, for clusters whose listeners use TLS without authentication. */
const upstreamTls = z.strictObject({
  caFile: filePath.optional().describe("PEM CA bundle the brokers' certificates are checked against; the system's CAs when unset."),
  certFile: filePath.optional().describe('A client certificate for brokers that ask for one (PEM chain and key).'),
  keyFile: filePath.optional().describe('The private key of certFile.'),
  keyPassword: z.string().min(1).optional().describe('Password of an encrypted keyFile.'),
  checkServerName: z.boolean().default(true).describe("Check that a broker's certificate names the host the proxy dialed."),
});

/** limits.maxEntitiesPerRequest when the config does not set it. */
export const DEFAULT_MAX_ENTITIES_PER_REQUEST = 100_000;

const limits = z
  .strictObject({
    maxRequestBytes: z.number().int().min(1024).default(100 * 1024 * 1024).describe("Largest request frame accepted once a client may send data (Kafka's socket.request.max.bytes)."),
    maxUnauthenticatedRequestBytes: z.number().int().min(1024).default(524288).describe("Largest frame before authentication completes (Kafka's sasl.server.max.receive.size)."),
    maxUnauthenticatedBytes: z.number().int().min(1024 * 1024).default(64 * 1024 * 1024).describe("Bytes all unauthenticated connections of the proxy may hold in incomplete frames together; when it runs out, the connection holding the most is closed (the one asking only if that is itself). 128 frames of the largest pre-auth size; a real client's SASL frame is a few KiB and rarely spans reads."),
    maxBufferedRequestBytes: z.number().int().min(1024 * 1024).default(1024 * 1024 * 1024).describe("Bytes all authenticated connections of the proxy (and those of `authentication: none` listeners) may hold in incomplete request frames together. Each may hold one frame of up to maxRequestBytes; this bounds the sum. When it runs out, the connection holding the most is closed (the one asking only if that is itself). 10 frames of the largest size; real clients' requests are a few MiB at most and rarely held long."),
    maxInFlightRequests: z.number().int().min(1).default(1000).describe('Requests a client may have outstanding before the proxy stops reading from it.'),
    maxEntitiesPerRequest: z.number().int().min(1000).default(DEFAULT_MAX_ENTITIES_PER_REQUEST).describe("Entries one request may hold (the elements of all its lists: topics, partitions, groups, ids), counted before it is decoded, on every listener that authorizes. Above it the request gets INVALID_REQUEST (42) where its response has a top-level error, else the connection is closed. The default is above what real clients send (a Metadata or OffsetFetch naming every topic of a large cluster) and keeps one request's decoded entries and merged errors to tens of MB, however small each entry is on the wire."),
    maxHeldResponseBytes: z.number().int().min(1024 * 1024).default(256 * 1024 * 1024).describe('Bytes of broker responses the whole proxy may hold at once to rewrite them (addresses, filtered listings, merged denials); a connection whose response would pass it is closed.'),
    idleTimeoutMs: z.number().int().min(1000).default(600_000).describe('A connection with no traffic either way for this long is closed (Kafka: connections.max.idle.ms).'),
    shutdownGraceMs: z.number().int().min(0).default(10_000).describe('How long SIGTERM waits for in-flight requests before closing connections.'),
    connectTimeoutMs: z.number().int().min(100).default(10_000).describe('How long a broker connection may take to open.'),
  })
  .prefault({});

/** accessRecording.maxIdentities by default: also what the supervisor counts plaintext clients up to. */
export const DEFAULT_MAX_IDENTITIES = 10_000;

export const configSchema = z
  .strictObject({
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(1024)]).default('auto').describe('Worker processes that all accept on every listener (auto: one per core the process may use, os.availableParallelism()). A supervisor process hands them connections and replaces any that dies.'),
    upstream: z
      .strictObject({
        bootstrapServers: z.array(hostPort).min(1).describe('Brokers to bootstrap from, as host:port (plaintext or TLS listeners without authentication).'),
        tls: upstreamTls.refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { message: 'certFile and keyFile go together' }).optional().describe('TLS to the brokers.'),
        metadataRefreshMs: z.number().int().min(1000).default(60_000).describe('How often the proxy re-reads the broker table from the cluster.'),
      })
      .describe('The Kafka cluster behind the proxy.'),
    listeners: z.array(listener).min(1).describe('Where clients connect: each listener has a bootstrap port and a port per broker (or SNI routing), its authentication and its mode.'),
    oauthbearer: z
      .strictObject({
        jwksUrl: z.string().regex(/^(https?|file):\/\//, 'expected an http(s):// or file:// URL').describe('Where the signing keys are: an http(s):// URL or a file:// path.'),
        issuer: z.string().min(1).describe('A token\'s `iss` must equal this.'),
        audience: z.array(z.string().min(1)).min(1).describe('A token\'s `aud` must contain one of these.'),
        principalClaim: z.string().min(1).default('sub').describe('The claim naming the principal (a dotted path reads nested objects).'),
        rolesClaim: z.string().min(1).default('roles').describe('The claim holding the roles: a space-separated string or a list of strings (a dotted path reads nested objects).'),
        clockSkewSeconds: z.number().int().min(0).default(30).describe('Tolerance on exp and nbf.'),
        maxSessionSeconds: z.number().int().min(0).default(3600).describe('Longest session before the client must re-authenticate; 0: until the token expires.'),
        jwksRefreshSeconds: z.number().int().min(1).default(3600).describe('Regular JWKS refresh (Kafka: sasl.oauthbearer.jwks.endpoint.refresh.ms).'),
        jwksUnknownKidRefreshSeconds: z.number().int().min(0).default(30).describe('A token naming an unknown kid refreshes the JWKS early, at most this often.'),
        jwksMaxStaleSeconds: z.number().int().min(1).default(86_400).describe('How long the last good keys stay in use while the JWKS cannot be fetched.'),
      })
      .optional()
      .describe('SASL OAUTHBEARER with JWTs: where the signing keys are and what a token must say.'),
    awsMskIam: z
      .strictObject({
        region: z.string().min(1).describe('Every signature must be scoped to this AWS region.'),
        credentialsFile: z.string().min(1).describe('The access keys the proxy checks signatures against, with each key\'s principal and roles (YAML or JSON; re-read when it changes).'),
        clockSkewSeconds: z.number().int().min(0).default(300).describe('Tolerance on signature dates, both ways (AWS allows 5 minutes).'),
      })
      .optional()
      .describe('SASL AWS_MSK_IAM (and MSK IAM signer tokens over OAUTHBEARER), checked against access keys the proxy holds; it never calls AWS.'),
    authorization: z
      .strictObject({ policyFile: z.string().min(1).describe('The RBAC policy (roles and bindings); re-read when it changes.') })
      .optional()
      .describe('Turns on per-request authorization on listeners in enforce or audit mode.'),

    rolesSource: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).describe('GET <url>?principal=<principal>: 200 {"roles": [...]}, or 404 for a principal it does not know.'),
        tokenFile: filePath.optional().describe('A file holding the bearer token sent with each request.'),
        tls: z
          .strictObject({
            caFile: filePath.optional().describe('PEM CA bundle to check the service\'s certificate against.'),
            certFile: filePath.optional().describe('PEM client certificate for mTLS.'),
            keyFile: filePath.optional().describe('The private key of certFile.'),
          })
          .optional().describe("For https: the CA to trust (default: the system's), and a client certificate and key for mTLS."),
        timeoutMs: z.number().int().min(100).default(2_000).describe('Longest wait for an answer; a new session waits at most this long, queue included.'),
        ttlSeconds: z.number().int().min(1).default(300).describe('How long an answer is used; refreshed in its last 10-30% while sessions use it.'),
        maxStaleSeconds: z.number().int().min(0).default(86_400).describe("How old last-known roles may be and still be served (listeners' rolesOffline: last-known)."),
        maxConcurrentRequests: z.number().int().min(1).default(16).describe('Requests in flight to the service at once, per worker.'),
        maxPrincipals: z.number().int().min(1).default(100_000).describe('Principals cached per worker (least recently used ones go first).'),

        breaker: z
          .strictObject({
            failurePercentage: z.number().min(1).max(100).default(50).describe('Share of failed requests in the window that opens the breaker.'),
            minimumRequests: z.number().int().min(1).default(10).describe('Requests in the window before the breaker may open.'),
            windowSeconds: z.number().int().min(1).default(10).describe('The rolling window the failures are counted in.'),
            openSeconds: z.number().int().min(1).default(30).describe('How long an open breaker sends no requests before trying one.'),
          })
          .prefault({}).describe('Opens (no requests for openSeconds) when failurePercentage of at least minimumRequests in windowSeconds failed.'),
        snapshot: z
          .strictObject({
            file: filePath.describe('Where the snapshot is written (mode 0600) and read from at start.'),
            intervalSeconds: z.number().int().min(1).default(60).describe('How often the snapshot is written.'),
          })
          .optional().describe('The cache on disk: read at start, so a restart while the service is down serves last-known roles.'),
      })
      .superRefine((r, ctx) => {
        if ((r.tls?.certFile === undefined) !== (r.tls?.keyFile === undefined)) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'certFile and keyFile go together (mTLS)' });
        if (r.tls && !r.url.startsWith('https:')) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls needs an https:// url' });
      })
      .optional().describe("A permissions service answering each principal's roles (docs/authorization.md, \"Roles from a permissions service\"); changes need new workers."),

    accessRecording: z
      .strictObject({
        directory: z.string().min(1).describe('Each proxy process writes its own recording-<host>-<pid>-<start>.json here; relative to the config file.'),
        intervalSeconds: z.number().int().min(1).default(60).describe('How often each process writes its recording file.'),
        maxIdentities: z.number().int().min(1).default(DEFAULT_MAX_IDENTITIES).describe('Identities (principals; address and client id pairs on unauthenticated listeners) per process.'),
        maxEntriesPerIdentity: z.number().int().min(1).default(100).describe('Resource and operation pairs per identity. At the defaults the recorder holds at most ~140 MiB per worker (measured: ~150 bytes an entry).'),
      })
      .optional().describe('The access recorder (docs/migration.md); changes need new workers.'),
    limits: limits.describe('Proxy-wide limits on request sizes, buffered bytes, in-flight requests and timeouts.'),

    admin: z
      .strictObject({
        bind: z.string().min(1).default('127.0.0.1').describe('Address of the admin endpoint; beyond loopback it needs tokenFile.'),
        port: port.describe('Port of the admin endpoint (metrics at /metrics).'),
        tokenFile: filePath.optional().describe('A file holding the bearer token callers must present (all but /healthz and /readyz); needed beyond loopback.'),
      })
      .refine((a) => a.tokenFile !== undefined || isLoopback(a.bind), {
        path: ['tokenFile'],
        message: 'needed when admin.bind is not a loopback address: the admin endpoint can switch enforcement off',
      })
      .optional().describe('Metrics, probes, status and the live mode switch (docs/operations.md, "Admin endpoint").'),
    logging: z
      .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info').describe('Lowest level logged (JSON lines on stdout).') })
      .prefault({})
      .describe('The proxy\'s log (pino JSON lines on stdout).'),
  })
  .superRefine((config, ctx) => {
    config.listeners.forEach((l, i) => {
      const mechanisms = l.authentication === 'none' ? [] : l.authentication;
      if (mechanisms.includes('OAUTHBEARER') && !config.oauthbearer && !config.awsMskIam) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'authentication'],
          message: 'OAUTHBEARER needs an oauthbearer section (JWTs) or an awsMskIam section (MSK IAM signer tokens)',
        });
      }
      if (config.rolesSource && !config.authorization) {
        if (i === 0) ctx.addIssue({ code: 'custom', path: ['rolesSource'], message: 'a roles source needs an authorization section: roles mean something only to a policy' });
      }
      if (l.modeOverrides && !config.authorization) {
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'modeOverrides'], message: 'mode overrides need an authorization section: without a policy there is nothing to enforce or audit' });
      }
      if (mechanisms.includes('AWS_MSK_IAM') && !config.awsMskIam) {
        ctx.addIssue({ code: 'custom', path: ['listeners', i, 'authentication'], message: 'AWS_MSK_IAM needs an awsMskIam section' });
      }
    });
    const names = new Set<string>();
    config.listeners.forEach((l, i) => {
      if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'name'], message: `duplicate listener name "${l.name}"` });
      names.add(l.name);
    });
  });

export type ProxyConfig = z.infer<typeof configSchema>;
export type ListenerConfig = ProxyConfig['listeners'][number];

/**
 * Whether a listener (or a session in `mode`, with a principal's override) records access when
 * accessRecording is set: by default where migration happens (no authentication, audit).
 */
export function recordsAccess(l: Pick<ListenerConfig, 'recordAccess' | 'authentication' | 'mode'>, mode = l.mode): boolean {
  return l.recordAccess ?? (l.authentication === 'none' || mode === 'audit');
}
export type LimitsConfig = ProxyConfig['limits'];
export type ListenerLimitsConfig = ListenerConfig['limits'];

import { createHash } from 'node:crypto';
import { type StatsListener, unwatchFile, watchFile } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, errors, type JWSHeaderParameters, type FlattenedJWSInput, type JSONWebKeySet } from 'jose';
import type { Logger } from '../observe/logger.js';
import { quoted } from '../observe/client-text.js';
import type { AuthenticationFailure } from './authentication-failure.js';
import { describeJwksUrl, fetchJwksText, parseJwks } from './jwks-source.js';

export interface JwksCacheOptions {
  /** Regular refresh (Kafka: sasl.oauthbearer.jwks.endpoint.refresh.ms, one hour). */
  refreshIntervalMs?: number;
  /** A token naming an unknown kid triggers a refresh at most this often. */
  unknownKidRefreshIntervalMs?: number;
  /** First retry delay after a failed fetch; doubles on every further failure. */
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** How long the last good keys keep being used while the JWKS cannot be fetched. */
  maxStaleSeconds?: number;
  fetchTimeoutMs?: number;
  /** How often a file:// JWKS is checked for changes. */
  fileWatchIntervalMs?: number;
  maxBytes?: number;
  /** The clock (ms since the epoch); tests move it to cross the staleness limit. */
  now?: () => number;
  /** Told of every fetch of the JWKS, whether its keys were taken or not (for metrics). */
  fetched?: (outcome: 'success' | 'failure') => void;
}

type Settings = Required<Omit<JwksCacheOptions, 'fetched'>>;

const DEFAULTS: Settings = {
  refreshIntervalMs: 3_600_000,
  unknownKidRefreshIntervalMs: 30_000,
  retryInitialDelayMs: 1_000,
  retryMaxDelayMs: 60_000,
  maxStaleSeconds: 86_400,
  fetchTimeoutMs: 10_000,
  fileWatchIntervalMs: 5_000,
  maxBytes: 1024 * 1024,
  now: Date.now,
};

/** Why no key could be had for a token; the message is safe for a client and a log line. */
export class KeyUnavailableError extends Error {
  override readonly name = 'KeyUnavailableError';

  constructor(
    readonly failure: Extract<AuthenticationFailure, 'malformed' | 'unknown-key' | 'jwks-unavailable'>,
    message: string,
  ) {
    super(message);
  }
}

interface KeySet {
  select: ReturnType<typeof createLocalJWKSet>;
  /** kid -> what the key under it is: tells a removed or replaced key from one that stayed. */
  fingerprints: Map<string, string>;
  fetchedAtMs: number;
  generation: number;
}

/** The keys in use, for operators: never the keys themselves. */
export interface JwksStatus {
  /** The JWKS URL without credentials or query (as in log lines). */
  source: string;
  keyIds: string[];
  /** When the keys in use were fetched; undefined before the first success. */
  fetchedAt: Date | undefined;
  /** Loaded and not older than jwksMaxStaleSeconds: tokens can be checked. */
  fresh: boolean;
  /** Failed fetches since the last success. */
  failures: number;
  lastError?: string;
}

/** The JWKS key that verified a token, as it was at that moment. */
export interface SigningKeyRef {
  kid: string;
  fingerprint: string;
  /** The generation of the key set it came from. */
  generation: number;
}

/**
 * The verification keys from one JWKS URL, kept fresh: refreshed every refreshIntervalMs,
 * early (rate-limited) when a token names a kid it does not have, retried with exponential
 * backoff after a failure. The last good set stays in use while the source is unreachable,
 * for at most maxStaleSeconds; after that every lookup fails closed.
 */
export class JwksCache {
  private readonly options: Settings;
  private readonly fetched: NonNullable<JwksCacheOptions['fetched']>;
  private readonly source: string;
  private keys: KeySet | undefined;
  private inFlight: Promise<void> | undefined;
  private lastAttemptMs = Number.NEGATIVE_INFINITY;
  private lastError: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Bumped whenever a key set is loaded: results verified against older keys are then out of date. */
  generation = 0;
  private readonly onFileChange: StatsListener = (current, previous) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) void this.refresh('file changed');
  };

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    options: JwksCacheOptions = {},
  ) {
    const { fetched = () => {}, ...settings } = options;
    this.options = { ...DEFAULTS, ...settings };
    this.fetched = fetched;
    this.source = describeJwksUrl(url);
  }

  /** Loads the keys once and starts refreshing. Never rejects: a failure is logged and retried. */
  async start(): Promise<void> {
    if (this.url.startsWith('file:')) {
      watchFile(fileURLToPath(this.url), { interval: this.options.fileWatchIntervalMs, persistent: false }, this.onFileChange);
    }
    await this.refresh('start');
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.url.startsWith('file:')) unwatchFile(fileURLToPath(this.url), this.onFileChange);
  }

  /**
   * The key named by the token's kid, fitting its alg, for jose's jwtVerify; and which key it
   * was, taken from the same key set, so a session can later tell whether it is still there.
   */
  async keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput) {
    const { kid } = header;
    if (typeof kid !== 'string' || kid === '') throw new KeyUnavailableError('malformed', 'token has no "kid" header');
    if (!this.usableKeys()?.fingerprints.has(kid)) await this.refreshForUnknownKid();
    const keys = this.usableKeys();
    if (!keys) throw new KeyUnavailableError('jwks-unavailable', this.unavailableReason());
    const fingerprint = keys.fingerprints.get(kid);
    if (fingerprint === undefined) throw new KeyUnavailableError('unknown-key', `no key with kid ${quoted(kid)} in the JWKS`);
    try {
      const signingKey: SigningKeyRef = { kid, fingerprint, generation: keys.generation };
      return { key: await keys.select(header, token), signingKey };
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey) {
        throw new KeyUnavailableError('unknown-key', `key ${quoted(kid)} in the JWKS cannot verify ${header.alg}`);
      }
      if (e instanceof errors.JWKSMultipleMatchingKeys) throw new KeyUnavailableError('unknown-key', `several keys in the JWKS have kid ${quoted(kid)}`);
      throw e;
    }
  }

  /**
   * What the last loaded JWKS holds under `kid`, undefined if nothing. A JWKS that cannot be
   * refreshed keeps its keys here: an outage of the issuer does not end live sessions.
   */
  fingerprintOf(kid: string): string | undefined {
    return this.keys?.fingerprints.get(kid);
  }

  /** Fetches the JWKS now (SIGHUP), so a key removed from it stops being trusted at once. */
  reload(reason: string): Promise<void> {
    return this.refresh(reason);
  }

  /** What the admin status and the metrics say about the keys. */
  status(): JwksStatus {
    const keys = this.keys;
    return {
      source: this.source,
      keyIds: keys ? [...keys.fingerprints.keys()] : [],
      fetchedAt: keys ? new Date(keys.fetchedAtMs) : undefined,
      fresh: this.fresh,
      failures: this.failures,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Whether the keys are loaded and not older than maxStaleSeconds (otherwise tokens are refused). */
  get fresh(): boolean {
    return this.usableKeys() !== undefined;
  }

  private usableKeys(): KeySet | undefined {
    const keys = this.keys;
    return keys && this.options.now() - keys.fetchedAtMs <= this.options.maxStaleSeconds * 1000 ? keys : undefined;
  }

  /** Goes to clients too, so it leaves the URL (often an internal address) to the warn lines. */
  private unavailableReason(): string {
    const cause = this.lastError ? ` (last error: ${this.lastError})` : '';
    if (!this.keys) return `the JWKS has not been loaded${cause}`;
    return `the JWKS could not be refreshed for more than ${this.options.maxStaleSeconds} s${cause}`;
  }

  /** Joins a refresh in progress, or starts one unless the last attempt was too recent. */
  private refreshForUnknownKid(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.options.now() - this.lastAttemptMs < this.options.unknownKidRefreshIntervalMs) return Promise.resolve();
    return this.refresh('unknown kid');
  }

  private refresh(reason: string): Promise<void> {
    this.inFlight ??= this.load(reason).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(reason: string): Promise<void> {
    this.lastAttemptMs = this.options.now();
    try {
      const text = await fetchJwksText(this.url, this.options.fetchTimeoutMs, this.options.maxBytes);
      const { jwks, dropped } = parseJwks(text);
      const fingerprints = fingerprintsOf(jwks);
      this.generation++;
      this.keys = { select: createLocalJWKSet(jwks), fingerprints, fetchedAtMs: this.options.now(), generation: this.generation };
      this.failures = 0;
      this.lastError = undefined;
      this.log.debug({ jwks: this.source, reason, kids: [...fingerprints.keys()], dropped }, 'JWKS refreshed');
      this.fetched('success');
      this.schedule(this.options.refreshIntervalMs);
    } catch (e) {
      this.fetched('failure');
      this.failures += 1;
      this.lastError = (e as Error).message;
      const retryInMs = Math.min(this.options.retryInitialDelayMs * 2 ** (this.failures - 1), this.options.retryMaxDelayMs);
      const keptKeys = this.usableKeys() ? 'keeping the last good keys' : 'no usable keys';
      this.log.warn({ jwks: this.source, reason, err: this.lastError, failures: this.failures, retryInMs }, `JWKS refresh failed; ${keptKeys}`);
      this.schedule(retryInMs);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(this.failures ? 'retry' : 'periodic'), delayMs);
    this.timer.unref();
  }
}

/**
 * Per kid, a digest of every member of the keys under it (a JWKS may list several), sorted so
 * the issuer's JSON order does not matter. Any change to a key counts as another key.
 */
function fingerprintsOf(jwks: JSONWebKeySet): Map<string, string> {
  const byKid = new Map<string, string[]>();
  for (const key of jwks.keys) {
    const members = Object.entries(key).sort(([a], [b]) => (a < b ? -1 : 1));
    const kid = key.kid as string;
    const keys = byKid.get(kid) ?? [];
    keys.push(JSON.stringify(members));
    byKid.set(kid, keys);
  }
  const fingerprints = new Map<string, string>();
  for (const [kid, keys] of byKid) fingerprints.set(kid, createHash('sha256').update(JSON.stringify(keys.sort())).digest('base64'));
  return fingerprints;
}

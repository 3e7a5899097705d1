import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, type FlattenedJWSInput, type JWSHeaderParameters, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { ProxyConfig } from '../config/schema.js';
import type { Logger } from '../observe/logger.js';
import { quoted } from '../observe/client-text.js';
import type { AuthenticationFailure } from './authentication-failure.js';
import { claimAt } from './claims.js';
import type { CredentialCheck } from './credential-check.js';
import { JwksCache, type JwksCacheOptions, type JwksStatus, KeyUnavailableError, type SigningKeyRef } from './jwks-cache.js';
import { SigningKeyCheck } from './signing-key-check.js';

/** The `oauthbearer` settings that decide whether a token is valid. */
export type OAuthBearerSettings = Pick<
  NonNullable<ProxyConfig['oauthbearer']>,
  'jwksUrl' | 'issuer' | 'audience' | 'principalClaim' | 'rolesClaim' | 'clockSkewSeconds'
>;

export interface ValidatedToken {
  principal: string;
  roles: string[];
  expiresAtMs: number;
  issuedAtMs: number;
  /** The JWKS key that verified the token: a session ends when it leaves the JWKS. */
  signingKey: SigningKeyRef;
}

/**
 * A token the proxy refuses. The message is a short reason for the client's error message and
 * the log line; it never contains the token or key material. `failure` is its class, for metrics.
 */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';

  constructor(
    readonly failure: AuthenticationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Asymmetric algorithms only: `none` and HS* (which a public key could be abused to "sign") never. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** header.payload.signature in base64url; the signature may be empty so `alg: none` gets its own reason. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies OAUTHBEARER tokens as Kafka's KIP-768 validator does (PROTOCOL-NOTES §3): a compact
 * JWS signed by the JWKS key its kid names, exp and iat required, nbf honoured, issuer and
 * audience checked, principal and roles read from the configured claims.
 */
export class OAuthTokenValidator {
  private readonly keys: JwksCache;
  private readonly now: () => number;
  /**
   * Tokens verified lately, by SHA-256 (the token itself is not kept). An entry is used only
   * while the key that verified it is in the JWKS unchanged (a removed or replaced key sends
   * the token through the full check again) and until the token expires.
   */
  private readonly verified = new LRUCache<string, ValidatedToken>({ max: 10_000 });

  constructor(
    private readonly settings: OAuthBearerSettings,
    log: Logger,
    jwks: JwksCacheOptions = {},
  ) {
    this.keys = new JwksCache(settings.jwksUrl, log, jwks);
    this.now = jwks.now ?? Date.now;
  }

  /** Loads the JWKS; a failure is logged and retried, and tokens are refused meanwhile. */
  start(): Promise<void> {
    return this.keys.start();
  }

  stop(): void {
    this.keys.stop();
  }

  jwksStatus(): JwksStatus {
    return this.keys.status();
  }

  async validate(token: string): Promise<ValidatedToken> {
    // A client authenticates each of its connections with the same token: verify it once.
    const key = createHash('sha256').update(token).digest('base64');
    const known = this.verified.get(key);
    if (
      known &&
      this.keys.fingerprintOf(known.signingKey.kid) === known.signingKey.fingerprint &&
      this.keys.fresh &&
      this.now() < known.expiresAtMs + this.settings.clockSkewSeconds * 1000
    ) {
      return known;
    }
    const validated = await this.verify(token);
    this.verified.set(key, validated);
    return validated;
  }

  /** How a session authenticated with `token` re-checks it after a JWKS refresh. */
  checkFor(token: ValidatedToken): CredentialCheck {
    return new SigningKeyCheck(this.keys, token.signingKey, token.roles);
  }

  /** Fetches the JWKS again now (SIGHUP). */
  reloadKeys(reason: string): Promise<void> {
    return this.keys.reload(reason);
  }

  private async verify(token: string): Promise<ValidatedToken> {
    if (!COMPACT_JWS.test(token)) throw new TokenRejectedError('malformed', 'malformed token');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new TokenRejectedError('malformed', 'malformed token');
    }
    // Checked before jose so the reason names the algorithm.
    if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) {
      const name = typeof alg === 'string' && /^[A-Za-z0-9]{1,16}$/.test(alg) ? alg : quoted(alg);
      // alg none, or HS* "signed" with the public key: no signature the proxy can trust.
      throw new TokenRejectedError('bad-signature', `algorithm ${name} is not allowed`);
    }
    let payload: JWTPayload;
    let signingKey: SigningKeyRef | undefined;
    const keyFor = async (header: JWSHeaderParameters, input: FlattenedJWSInput) => {
      const found = await this.keys.keyFor(header, input);
      signingKey = found.signingKey;
      return found.key;
    };
    try {
      ({ payload } = await jwtVerify(token, keyFor, {
        algorithms: ALGORITHMS,
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ['exp', 'iat'],
        clockTolerance: this.settings.clockSkewSeconds,
        currentDate: new Date(this.now()),
      }));
    } catch (e) {
      throw this.rejectionFor(e);
    }
    return {
      principal: this.principalOf(payload),
      roles: this.rolesOf(payload),
      expiresAtMs: (payload.exp as number) * 1000,
      issuedAtMs: (payload.iat as number) * 1000,
      // Set: jwtVerify succeeded, so it took its key from keyFor.
      signingKey: signingKey!,
    };
  }

  private principalOf(payload: JWTPayload): string {
    const name = this.settings.principalClaim;
    const value = claimAt(payload, name);
    if (value === undefined) throw new TokenRejectedError('missing-claim', `token has no ${JSON.stringify(name)} claim`);
    if (typeof value !== 'string' || value === '') throw new TokenRejectedError('malformed', `claim ${JSON.stringify(name)} is not a non-empty string`);
    return value;
  }

  /** A scope-style string ("a b c") or an array of strings, as Kafka accepts for its scope claim. */
  private rolesOf(payload: JWTPayload): string[] {
    const name = this.settings.rolesClaim;
    const value = claimAt(payload, name);
    if (value === undefined) return [];
    if (typeof value === 'string') return value.split(/\s+/).filter((role) => role !== '');
    if (Array.isArray(value) && value.every((role) => typeof role === 'string')) return value;
    throw new TokenRejectedError('malformed', `claim ${JSON.stringify(name)} is neither a string nor an array of strings`);
  }

  /** jose's errors, turned into reasons an operator can act on. */
  private rejectionFor(e: unknown): TokenRejectedError {
    if (e instanceof KeyUnavailableError) return new TokenRejectedError(e.failure, e.message);
    if (e instanceof errors.JWSSignatureVerificationFailed) return new TokenRejectedError('bad-signature', 'signature verification failed');
    if (e instanceof errors.JWTExpired) return new TokenRejectedError('expired', `token expired at ${isoDate(e.payload.exp)}`);
    if (e instanceof errors.JWTClaimValidationFailed) return this.claimRejection(e);
    if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return new TokenRejectedError('malformed', 'malformed token');
    // Key import problems (e.g. an RSA key under 2048 bits): jose's messages quote no input.
    if (e instanceof errors.JOSEError || e instanceof TypeError) return new TokenRejectedError('other', `token could not be verified: ${e.message}`);
    throw e;
  }

  private claimRejection(e: InstanceType<typeof errors.JWTClaimValidationFailed>): TokenRejectedError {
    const { claim, reason, payload } = e;
    if (reason === 'missing') return new TokenRejectedError('missing-claim', `token has no ${JSON.stringify(claim)} claim`);
    if (reason === 'invalid') return new TokenRejectedError('malformed', `claim ${JSON.stringify(claim)} is not a number`);
    switch (claim) {
      case 'iss':
        return new TokenRejectedError('wrong-issuer', `issuer ${quoted(payload.iss)} is not the expected ${JSON.stringify(this.settings.issuer)}`);
      case 'aud':
        return new TokenRejectedError('wrong-audience', `audience ${quoted(payload.aud)} does not include any of ${JSON.stringify(this.settings.audience)}`);
      case 'nbf':
        return new TokenRejectedError('not-yet-valid', `token is not valid before ${isoDate(payload.nbf)}`);
      default:
        return new TokenRejectedError('other', `claim ${JSON.stringify(claim)} check failed`);
    }
  }
}

function isoDate(seconds: unknown): string {
  const date = new Date((seconds as number) * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

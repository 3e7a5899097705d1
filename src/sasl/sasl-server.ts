import { ProtocolError } from '../protocol/errors.js';
import { API_KEYS, APIS } from '../protocol/generated/apis.js';
import type { SaslAuthenticateRequest } from '../protocol/generated/messages/SaslAuthenticateRequest.js';
import { readSaslAuthenticateRequest } from '../protocol/generated/messages/SaslAuthenticateRequest.js';
import { readSaslHandshakeRequest } from '../protocol/generated/messages/SaslHandshakeRequest.js';
import { skipRequestHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { isOfferedVersion } from '../proxy/client-apis.js';
import { errorResponseFrame, responseFrame } from '../proxy/local-response.js';
import type { AuthenticationFailure } from '../auth/authentication-failure.js';
import type { RevocationReason } from '../auth/credential-check.js';
import { quoted } from '../observe/client-text.js';
import { AuthenticationFailed, type Identity, type SaslMechanism } from './mechanism.js';

const ILLEGAL_SASL_STATE = 34;
const UNSUPPORTED_SASL_MECHANISM = 33;
const SASL_AUTHENTICATION_FAILED = 58;
/** Size prefix, api key, version and correlation id: the least a request frame holds. */
const REQUEST_HEADER_START = 4 + 8;

/** What the session must do with a frame the SASL server handled. */
export type SaslStep =
  /** Send `reply` (if any) and go on reading. */
  | { kind: 'reply'; reply: Buffer | undefined }
  /** Send `reply` (if any), let it flush, then close. `mechanism` is one of the server's, once one was chosen. */
  | { kind: 'fail'; reply: Buffer | undefined; reason: string; failure: AuthenticationFailure; principal?: string; mechanism?: string }
  /** Send `reply`; the connection is (re-)authenticated as `identity`. */
  | { kind: 'authenticated'; reply: Buffer; identity: Identity; reauthentication: boolean }
  /** Not a SASL matter: an ApiVersions request to answer from the broker's list. */
  | { kind: 'api-versions'; correlationId: number; version: number };

/** What a reload of the credential's source changed for a live session. */
export type CredentialChange =
  /** The session ends at this request, as an expired one does. */
  | { kind: 'revoked'; reason: RevocationReason }
  /** Requests from this one on are decided with these roles. */
  | { kind: 'roles-changed'; roles: string[] };

type State =
  | { name: 'start'; sawApiVersions: boolean }
  | { name: 'authenticate'; mechanism: SaslMechanism; raw: boolean }
  | { name: 'authenticated' }
  | { name: 'reauthenticate'; mechanism: SaslMechanism };

/**
 * The per-connection SASL server, behaving as a Kafka broker's SaslServerAuthenticator does
 * (see PROTOCOL-NOTES §2): ApiVersions and SaslHandshake before authentication, SaslAuthenticate
 * (or a raw token after a v0 handshake) to authenticate, the exact errors for requests out of
 * order, session lifetimes, and re-authentication on the live connection (KIP-368).
 */
export class SaslServer {
  private state: State = { name: 'start', sawApiVersions: false };
  identity: Identity | undefined;
  /** When the session ends unless the client re-authenticates; null for never. */
  sessionExpiresAtMs: number | null = null;
  /** Re-authentication is only offered to clients that used SaslAuthenticate v1+ (KIP-368). */
  private canReauthenticate = false;

  constructor(
    private readonly mechanisms: readonly SaslMechanism[],
    private readonly maxSessionMs: number,
  ) {}

  get authenticated(): boolean {
    return this.identity !== undefined;
  }

  /** Whether this frame is the SASL server's to handle rather than the broker's. */
  intercepts(apiKey: number): boolean {
    if (this.state.name !== 'authenticated') return true;
    return apiKey === API_KEYS.SaslHandshake || apiKey === API_KEYS.SaslAuthenticate;
  }

  expired(now: number): boolean {
    return this.sessionExpiresAtMs !== null && now >= this.sessionExpiresAtMs;
  }

  /**
   * Called before each request of an authenticated session: re-checks the credential if its
   * source (credentials file, JWKS) was reloaded since the last look, and otherwise costs one
   * comparison. undefined when nothing changed for this session.
   */
  recheckCredential(now: number): CredentialChange | undefined {
    const identity = this.identity;
    const verdict = identity?.credential?.recheckIfReloaded(now);
    if (!identity || !verdict) return undefined;
    if (!verdict.valid) return { kind: 'revoked', reason: verdict.reason };
    // A credential given an earlier expiry ends the session then; a later one waits for re-authentication.
    if (verdict.expiresAtMs !== null && (this.sessionExpiresAtMs === null || verdict.expiresAtMs < this.sessionExpiresAtMs)) {
      this.sessionExpiresAtMs = verdict.expiresAtMs;
    }
    if (sameRoles(identity.roles, verdict.roles)) return undefined;
    this.identity = { ...identity, roles: [...verdict.roles] };
    return { kind: 'roles-changed', roles: this.identity.roles };
  }

  async handle(frame: Buffer): Promise<SaslStep> {
    const state = this.state;
    if (state.name === 'authenticate' && state.raw) return this.authenticateRaw(state.mechanism, frame);
    // Bad input, not a fault of the proxy's: Buffer's RangeError would be taken for one.
    if (frame.length < REQUEST_HEADER_START) throw new ProtocolError('truncated', `request frame of ${frame.length - 4} bytes has no header`);
    const apiKey = frame.readInt16BE(4);
    const version = frame.readInt16BE(6);
    const correlationId = frame.readInt32BE(8);
    switch (state.name) {
      case 'start':
        return this.start(state, apiKey, version, correlationId, frame);
      case 'authenticate':
      case 'reauthenticate':
        if (apiKey !== API_KEYS.SaslAuthenticate) {
          return this.illegal(apiKey, version, correlationId, `Unexpected Kafka request of type ${APIS[apiKey]?.name ?? apiKey} during SASL authentication.`, state.mechanism.name);
        }
        return this.authenticate(state.mechanism, version, correlationId, frame, state.name === 'reauthenticate');
      case 'authenticated':
        if (apiKey === API_KEYS.SaslAuthenticate) {
          return this.illegal(apiKey, version, correlationId, 'SaslAuthenticate request received after successful authentication', this.identity!.mechanism);
        }
        return this.reauthenticationHandshake(version, correlationId, frame);
    }
  }

  private start(state: Extract<State, { name: 'start' }>, apiKey: number, version: number, correlationId: number, frame: Buffer): SaslStep {
    if (apiKey === API_KEYS.ApiVersions && !state.sawApiVersions) {
      if (isOfferedVersion(apiKey, version)) state.sawApiVersions = true;
      return { kind: 'api-versions', correlationId, version };
    }
    if (apiKey !== API_KEYS.SaslHandshake || !isOfferedVersion(apiKey, version)) {
      // A broker closes without answering: this client is not speaking SASL.
      return { kind: 'fail', reply: undefined, reason: `${APIS[apiKey]?.name ?? `API ${apiKey}`} request before SASL handshake`, failure: 'illegal-state' };
    }
    const requested = this.readHandshake(frame, version);
    const mechanism = this.mechanisms.find((m) => m.name === requested);
    if (!mechanism) {
      return {
        kind: 'fail',
        reply: this.handshakeResponse(version, correlationId, UNSUPPORTED_SASL_MECHANISM),
        reason: `unsupported SASL mechanism ${quoted(requested)}`,
        failure: 'unsupported-mechanism',
      };
    }
    this.state = { name: 'authenticate', mechanism, raw: version === 0 };
    return { kind: 'reply', reply: this.handshakeResponse(version, correlationId, 0) };
  }

  private reauthenticationHandshake(version: number, correlationId: number, frame: Buffer): SaslStep {
    if (!this.canReauthenticate || version === 0) {
      return this.illegal(API_KEYS.SaslHandshake, version, correlationId, 'SaslHandshake after successful authentication', this.identity!.mechanism);
    }
    const requested = this.readHandshake(frame, version);
    if (requested !== this.identity!.mechanism) {
      return {
        kind: 'fail',
        reply: this.handshakeResponse(version, correlationId, UNSUPPORTED_SASL_MECHANISM),
        reason: `re-authentication must use ${this.identity!.mechanism}, not ${quoted(requested)}`,
        failure: 'unsupported-mechanism',
        principal: this.identity!.principal,
        mechanism: this.identity!.mechanism,
      };
    }
    this.state = { name: 'reauthenticate', mechanism: this.mechanisms.find((m) => m.name === requested)! };
    return { kind: 'reply', reply: this.handshakeResponse(version, correlationId, 0) };
  }

  private async authenticate(mechanism: SaslMechanism, version: number, correlationId: number, frame: Buffer, reauthentication: boolean): Promise<SaslStep> {
    let request: SaslAuthenticateRequest;
    try {
      const r = new Reader(frame, 4);
      skipRequestHeader(r);
      request = readSaslAuthenticateRequest(r, version);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      return this.failure(version, correlationId, `malformed SaslAuthenticate request: ${e.message}`, 'malformed', mechanism.name);
    }
    if (version >= 1) this.canReauthenticate = true;
    let outcome: { identity: Identity; reply: Buffer };
    try {
      outcome = await mechanism.authenticate(request.authBytes);
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      return this.failure(version, correlationId, e.message, e.failure, mechanism.name, reauthentication ? this.identity?.principal : undefined);
    }
    if (reauthentication && outcome.identity.principal !== this.identity!.principal) {
      return this.failure(
        version,
        correlationId,
        `Cannot change principals during re-authentication from ${this.identity!.principal}: ${outcome.identity.principal}`,
        'other',
        mechanism.name,
        this.identity!.principal,
      );
    }
    const lifetimeMs = this.startSession(outcome.identity);
    const reply = responseFrame(API_KEYS.SaslAuthenticate, version, correlationId, {
      errorCode: 0,
      errorMessage: null,
      authBytes: outcome.reply,
      sessionLifetimeMs: BigInt(lifetimeMs),
    });
    return { kind: 'authenticated', reply, identity: outcome.identity, reauthentication };
  }

  /** After a v0 handshake the client sends its token as a bare size-prefixed frame. */
  private async authenticateRaw(mechanism: SaslMechanism, frame: Buffer): Promise<SaslStep> {
    try {
      const { identity } = await mechanism.authenticate(frame.subarray(4));
      this.startSession(identity);
      // An empty server token: a zero length prefix, as a broker answers a v0 OAUTHBEARER client.
      return { kind: 'authenticated', reply: Buffer.alloc(4), identity, reauthentication: false };
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      return { kind: 'fail', reply: undefined, reason: e.message, failure: e.failure, mechanism: mechanism.name };
    }
  }

  /**
   * session_lifetime_ms = min(credential expiry - now, max session), 0 meaning no limit; the
   * connection is closed on the first request after it ends unless the client re-authenticated.
   */
  private startSession(identity: Identity): number {
    const now = Date.now();
    const limits: number[] = [];
    if (identity.expiresAtMs !== null) limits.push(Math.max(1, identity.expiresAtMs - now));
    if (this.maxSessionMs > 0) limits.push(this.maxSessionMs);
    const lifetimeMs = limits.length ? Math.min(...limits) : 0;
    this.identity = identity;
    this.sessionExpiresAtMs = lifetimeMs > 0 ? now + lifetimeMs : null;
    this.state = { name: 'authenticated' };
    return lifetimeMs;
  }

  private readHandshake(frame: Buffer, version: number): string {
    const r = new Reader(frame, 4);
    skipRequestHeader(r);
    return readSaslHandshakeRequest(r, version).mechanism;
  }

  private handshakeResponse(version: number, correlationId: number, errorCode: number): Buffer {
    return responseFrame(API_KEYS.SaslHandshake, version, correlationId, { errorCode, mechanisms: this.mechanisms.map((m) => m.name) });
  }

  private failure(version: number, correlationId: number, reason: string, failure: AuthenticationFailure, mechanism: string, principal?: string): SaslStep {
    const reply = responseFrame(API_KEYS.SaslAuthenticate, version, correlationId, {
      errorCode: SASL_AUTHENTICATION_FAILED,
      errorMessage: `Authentication failed: ${reason}`,
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0n,
    });
    return { kind: 'fail', reply, reason, failure, principal, mechanism };
  }

  private illegal(apiKey: number, version: number, correlationId: number, message: string, mechanism: string): SaslStep {
    const reply = isOfferedVersion(apiKey, version) ? errorResponseFrame(apiKey, version, correlationId, ILLEGAL_SASL_STATE, message) : undefined;
    return { kind: 'fail', reply, reason: message, failure: 'illegal-state', principal: this.identity?.principal, mechanism };
  }
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role, i) => role === b[i]);
}

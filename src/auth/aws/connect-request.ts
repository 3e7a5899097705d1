import { quoted } from '../../observe/client-text.js';
import type { AuthenticationFailure } from '../authentication-failure.js';
import type { CredentialLookup } from './credential-store.js';
import { ACCESS_KEY_ID, type AwsCredential } from './credentials-file.js';
import { KAFKA_CLUSTER_SERVICE, type PresignedQuery, SIGV4_ALGORITHM, constantTimeEquals, presignedSignature } from './sigv4.js';

/** A presigned kafka-cluster:Connect request, from either the AWS_MSK_IAM payload or an IAM OAUTHBEARER token. */
export interface ConnectRequest extends PresignedQuery {
  /** The host the signature covers. */
  host: string;
  signature: string;
}

export interface ConnectVerifierOptions {
  /** The one region signatures must be scoped to. */
  region: string;
  /** Whether a signature may be made for this host (given in lower case). */
  allowsHost(host: string): boolean;
  clockSkewSeconds: number;
  /** aws-msk-iam-sasl-signer-js sends X-Amz-Expires as seconds with a fraction ("899.5"). */
  fractionalExpires: boolean;
  now: () => number;
}

export interface VerifiedConnect {
  accessKeyId: string;
  principal: string;
  roles: string[];
  /** X-Amz-Date + X-Amz-Expires. */
  signatureExpiresAtMs: number;
  /** The stored credential's expiresAt, or null if it has none. */
  credentialExpiresAtMs: number | null;
  /** The stored credential the signature was checked against, for re-checking the session after a reload. */
  signedWith: AwsCredential;
}

/** A request the proxy refuses; the message is safe for the client and the log (no secret, token or signature). `failure` is its class, for metrics. */
export class ConnectRejected extends Error {
  override readonly name = 'ConnectRejected';

  constructor(
    readonly failure: AuthenticationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** AWS accepts presigned requests for at most 15 minutes. */
export const MAX_EXPIRES_SECONDS = 900;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const INTEGER_EXPIRES = /^\d{1,3}$/;
const DECIMAL_EXPIRES = /^\d{1,3}(\.\d{1,17})?$/;
const REGION = /^[a-z0-9-]{1,64}$/;
/** A DNS name or an IP address (IPv6 in brackets), no port. */
const HOST = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/;
/** STS session tokens are base64; this also keeps the value safe to URI-encode. */
const SECURITY_TOKEN = /^[\x21-\x7E]{1,16384}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Checks a presigned Connect request as MSK does (PROTOCOL-NOTES §4). Cheap shape, scope, time
 * and host checks come first; what depends on the credential (session token binding, its
 * expiry) is only reported after the signature proved the client holds the secret.
 */
export function verifyConnectRequest(request: ConnectRequest, store: CredentialLookup, options: ConnectVerifierOptions): VerifiedConnect {
  requireEqual('action', request.action, 'kafka-cluster:Connect');
  requireEqual('x-amz-algorithm', request.algorithm, SIGV4_ALGORITHM);
  requireEqual('x-amz-signedheaders', request.signedHeaders, 'host');
  const signedAtMs = parseAmzDate(request.date);
  const accessKeyId = checkCredentialScope(request.credential, request.date, options.region);
  const expiresSeconds = parseExpires(request.expires, options.fractionalExpires);
  if (!HOST.test(request.host)) throw new ConnectRejected('malformed', `host ${quoted(request.host)} is not a host name without a port`);
  if (request.securityToken !== undefined && !SECURITY_TOKEN.test(request.securityToken)) {
    throw new ConnectRejected('malformed', 'x-amz-security-token is not printable ASCII of at most 16384 characters');
  }
  if (!SIGNATURE.test(request.signature)) throw new ConnectRejected('malformed', 'x-amz-signature is not 64 lowercase hex digits');

  const signatureExpiresAtMs = signedAtMs + Math.round(expiresSeconds * 1000);
  const now = options.now();
  const skewMs = options.clockSkewSeconds * 1000;
  if (now > signatureExpiresAtMs + skewMs) throw new ConnectRejected('expired', `signature expired at ${iso(signatureExpiresAtMs)}`);
  if (signedAtMs > now + skewMs) {
    throw new ConnectRejected('clock-skew', `signature date ${iso(signedAtMs)} is more than ${options.clockSkewSeconds} s in the future`);
  }
  const host = request.host.toLowerCase();
  if (!options.allowsHost(host)) {
    throw new ConnectRejected('wrong-host', `signed host ${quoted(request.host)} is not an address of this proxy`);
  }

  const credential = store.lookup(accessKeyId);
  if (!credential) throw new ConnectRejected('unknown-access-key', `unknown access key id ${accessKeyId}`);
  const expected = presignedSignature(credential.secretAccessKey, options.region, request.host, request);
  if (!constantTimeEquals(expected, request.signature)) throw new ConnectRejected('signature-mismatch', `signature does not match for access key id ${accessKeyId}`);
  checkSessionToken(accessKeyId, credential.sessionToken, request.securityToken);
  if (credential.expiresAtMs !== undefined && now >= credential.expiresAtMs) {
    throw new ConnectRejected('expired', `credentials for access key id ${accessKeyId} expired at ${iso(credential.expiresAtMs)}`);
  }
  return {
    accessKeyId,
    principal: credential.principal,
    roles: [...credential.roles],
    signatureExpiresAtMs,
    credentialExpiresAtMs: credential.expiresAtMs ?? null,
    signedWith: credential,
  };
}

function requireEqual(field: string, value: string, expected: string): void {
  if (value !== expected) throw new ConnectRejected('malformed', `${field} ${quoted(value)} is not ${JSON.stringify(expected)}`);
}

function parseAmzDate(date: string): number {
  const m = AMZ_DATE.exec(date);
  const ms = m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
  // Date.UTC rolls over out-of-range parts (month 13, hour 25); a round trip catches them.
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '') !== date) {
    throw new ConnectRejected('malformed', `x-amz-date ${quoted(date)} is not a yyyyMMddTHHmmssZ date`);
  }
  return ms;
}

/** `<access key id>/<yyyyMMdd>/<region>/kafka-cluster/aws4_request`; returns the access key id. */
function checkCredentialScope(credential: string, date: string, region: string): string {
  const [accessKeyId, day, scopeRegion, service, terminal, ...extra] = credential.split('/');
  if (
    extra.length > 0 ||
    !ACCESS_KEY_ID.test(accessKeyId) ||
    !/^\d{8}$/.test(day ?? '') ||
    !REGION.test(scopeRegion ?? '') ||
    service !== KAFKA_CLUSTER_SERVICE ||
    terminal !== 'aws4_request'
  ) {
    throw new ConnectRejected('malformed', 'x-amz-credential is not "<access key id>/<yyyyMMdd>/<region>/kafka-cluster/aws4_request"');
  }
  if (day !== date.slice(0, 8)) throw new ConnectRejected('malformed', `credential date ${day} is not the day of x-amz-date ${date}`);
  if (scopeRegion !== region) throw new ConnectRejected('wrong-region', `credential region ${scopeRegion} is not this proxy's region ${region}`);
  return accessKeyId;
}

function parseExpires(expires: string, fractional: boolean): number {
  if (!(fractional ? DECIMAL_EXPIRES : INTEGER_EXPIRES).test(expires)) {
    throw new ConnectRejected('malformed', `x-amz-expires ${quoted(expires)} is not ${fractional ? 'a number' : 'an integer'} of seconds`);
  }
  const seconds = Number(expires);
  if (seconds < 1 || seconds > MAX_EXPIRES_SECONDS) {
    throw new ConnectRejected('malformed', `x-amz-expires ${expires} is not between 1 and ${MAX_EXPIRES_SECONDS} seconds`);
  }
  return seconds;
}

/**
 * A stored session token must come back exactly. A token the store does not expect is refused
 * too: it means the client signs with temporary credentials the proxy was not told about.
 */
function checkSessionToken(accessKeyId: string, bound: string | undefined, sent: string | undefined): void {
  if (bound === undefined && sent !== undefined) throw new ConnectRejected('signature-mismatch', `session token not expected for access key id ${accessKeyId}`);
  if (bound !== undefined && sent === undefined) throw new ConnectRejected('signature-mismatch', `session token missing for access key id ${accessKeyId}`);
  if (bound !== undefined && sent !== undefined && !constantTimeEquals(bound, sent)) {
    throw new ConnectRejected('signature-mismatch', `session token does not match for access key id ${accessKeyId}`);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * SigV4 for a presigned `GET /` to the `kafka-cluster` service, the only request MSK IAM
 * authentication signs (PROTOCOL-NOTES §4). Written on node:crypto rather than a signing
 * library: a verifier must canonicalise exactly the strings the client sent, and signers
 * (@smithy/signature-v4, aws4) rebuild the query from a Date and a number instead.
 */

export const KAFKA_CLUSTER_SERVICE = 'kafka-cluster';
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** The signed query parameters, verbatim as the client sent them. */
export interface PresignedQuery {
  action: string;
  algorithm: string;
  credential: string;
  /** yyyyMMddTHHmmssZ */
  date: string;
  expires: string;
  securityToken?: string;
  signedHeaders: string;
}

const EMPTY_BODY_SHA256 = sha256Hex('');

/**
 * Signing keys by day, region and secret. Deriving one takes four HMACs, more than half of a
 * handshake's crypto, and a client signs every connection with the same key all day.
 */
const signingKeys = new LRUCache<string, Buffer>({ max: 1024 });

function signingKey(secretAccessKey: string, day: string, region: string): Buffer {
  const cacheKey = `${day}/${region}/${secretAccessKey}`;
  let key = signingKeys.get(cacheKey);
  if (key === undefined) {
    key = hmac(`AWS4${secretAccessKey}`, day);
    for (const part of [region, KAFKA_CLUSTER_SERVICE, 'aws4_request']) key = hmac(key, part);
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/**
 * The hex signature of a presigned request for `host`. The credential scope is taken from the
 * date and region given, so the caller must have checked that x-amz-credential names the same.
 */
export function presignedSignature(secretAccessKey: string, region: string, host: string, query: PresignedQuery): string {
  const day = query.date.slice(0, 8);
  const canonicalRequest = ['GET', '/', canonicalQueryString(query), `host:${host}`, '', 'host', EMPTY_BODY_SHA256].join('\n');
  const stringToSign = [SIGV4_ALGORITHM, query.date, `${day}/${region}/${KAFKA_CLUSTER_SERVICE}/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
  return hmac(signingKey(secretAccessKey, day, region), stringToSign).toString('hex');
}

/** The signed query parameters by their URL names; version, host, user-agent and the signature are never signed. */
export function signedQueryPairs(query: PresignedQuery): Array<[string, string]> {
  const pairs: Array<[string, string]> = [
    ['Action', query.action],
    ['X-Amz-Algorithm', query.algorithm],
    ['X-Amz-Credential', query.credential],
    ['X-Amz-Date', query.date],
    ['X-Amz-Expires', query.expires],
    ['X-Amz-SignedHeaders', query.signedHeaders],
  ];
  if (query.securityToken !== undefined) pairs.push(['X-Amz-Security-Token', query.securityToken]);
  return pairs;
}

/** Sorted, RFC 3986-encoded name=value pairs of the signed parameters. */
export function canonicalQueryString(query: PresignedQuery): string {
  return signedQueryPairs(query)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Only A-Za-z0-9-._~ stay literal; encodeURIComponent also leaves !'()* alone, so those are added. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Equality that takes the same time wherever the strings differ, and whatever their lengths. */
export function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

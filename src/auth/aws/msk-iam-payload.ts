import { quoted } from '../../observe/client-text.js';
import { ConnectRejected, type ConnectRequest } from './connect-request.js';

/** The only AWS_MSK_IAM payload version there is; the Java client also requires it in the reply. */
export const MSK_IAM_VERSION = '2020_10_22';

/** Generous for STS session tokens (a few KB), far below Kafka's 512 KiB SASL frame limit. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

const FIELDS = [
  'version',
  'host',
  'action',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The AWS_MSK_IAM client message: a flat UTF-8 JSON object of strings (PROTOCOL-NOTES §4).
 * Other keys (user-agent, anything newer) are allowed and ignored: none of them is signed.
 */
export function parseMskIamPayload(bytes: Uint8Array): ConnectRequest {
  if (bytes.length > MAX_PAYLOAD_BYTES) throw invalid(`larger than ${MAX_PAYLOAD_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw invalid('not UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('not a JSON object');
  const fields = new Map(Object.entries(json));
  for (const [key, value] of fields) {
    if (typeof value !== 'string') throw invalid(`${quoted(key)} is not a string`);
  }
  for (const key of FIELDS) {
    if (!fields.has(key)) throw invalid(`"${key}" is missing`);
  }
  const field = (key: string) => fields.get(key) as string;
  if (field('version') !== MSK_IAM_VERSION) throw invalid(`version ${quoted(field('version'))} is not "${MSK_IAM_VERSION}"`);
  const request: ConnectRequest = {
    host: field('host'),
    action: field('action'),
    algorithm: field('x-amz-algorithm'),
    credential: field('x-amz-credential'),
    date: field('x-amz-date'),
    expires: field('x-amz-expires'),
    signedHeaders: field('x-amz-signedheaders'),
    signature: field('x-amz-signature'),
  };
  if (fields.has('x-amz-security-token')) request.securityToken = field('x-amz-security-token');
  return request;
}

function invalid(reason: string): ConnectRejected {
  return new ConnectRejected('malformed', `invalid AWS_MSK_IAM payload: ${reason}`);
}

import { quoted } from '../../observe/client-text.js';
import { ConnectRejected, type ConnectRequest } from './connect-request.js';
import { MAX_PAYLOAD_BYTES } from './msk-iam-payload.js';

/** Padding is optional: the Python signer strips it, the JS one never has any. */
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const MAX_TOKEN_CHARS = Math.ceil((MAX_PAYLOAD_BYTES * 4) / 3);
/** The path is always "/" (it is what is signed); Java's IAMOAuthBearerLoginCallbackHandler leaves the slash out of its URL. */
const URL_SHAPE = /^https:\/\/([^/?#]*)\/?\?([^#]*)$/;

/** Query parameter -> ConnectRequest field; User-Agent is sent but never signed, so it maps to nothing. */
const PARAMETERS: Record<string, keyof ConnectRequest | null> = {
  Action: 'action',
  'X-Amz-Algorithm': 'algorithm',
  'X-Amz-Credential': 'credential',
  'X-Amz-Date': 'date',
  'X-Amz-Expires': 'expires',
  'X-Amz-SignedHeaders': 'signedHeaders',
  'X-Amz-Signature': 'signature',
  'X-Amz-Security-Token': 'securityToken',
  'User-Agent': null,
};
const REQUIRED = ['Action', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The bearer token of aws-msk-iam-sasl-signer-js/-python/-go and Java's
 * IAMOAuthBearerLoginCallbackHandler: base64url of
 * `https://kafka.<region>.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-...&User-Agent=...`.
 * Parameters may come in any order; each may appear once; unknown ones are refused.
 */
export function parsePresignedUrlToken(token: string): ConnectRequest {
  if (token.length > MAX_TOKEN_CHARS) throw invalid(`longer than ${MAX_TOKEN_CHARS} characters`);
  if (!BASE64URL.test(token)) throw invalid('not base64url');
  let url: string;
  try {
    url = utf8.decode(Buffer.from(token, 'base64url'));
  } catch {
    throw invalid('not UTF-8');
  }
  const shape = URL_SHAPE.exec(url);
  if (!shape) throw invalid('not an https://<host>/?<query> URL');
  const [, host, query] = shape;

  const fields: Partial<Record<keyof ConnectRequest, string>> = {};
  const seen = new Set<string>();
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid('query is not name=value pairs');
    const name = decode(pair.slice(0, eq));
    if (!Object.hasOwn(PARAMETERS, name)) throw invalid(`unexpected query parameter ${quoted(name)}`);
    if (seen.has(name)) throw invalid(`query parameter ${name} appears more than once`);
    seen.add(name);
    const field = PARAMETERS[name];
    const value = decode(pair.slice(eq + 1));
    if (field) fields[field] = value;
  }
  const missing = REQUIRED.find((name) => !seen.has(name));
  if (missing) throw invalid(`query parameter ${missing} is missing`);
  return { ...(fields as Omit<ConnectRequest, 'host'>), host };
}

/** Form decoding, as Go's url.Values and Java build it: "+" is a space, %XX a UTF-8 byte. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw invalid('query has a bad %-escape');
  }
}

function invalid(reason: string): ConnectRejected {
  return new ConnectRejected('malformed', `invalid AWS IAM OAUTHBEARER token: ${reason}`);
}

import { quoted } from '../observe/client-text.js';

/**
 * The OAUTHBEARER client first message (RFC 7628 §3.1, GS2 header from RFC 5801), parsed as
 * strictly as Kafka's OAuthBearerClientInitialResponse does:
 *
 *   n,[a=<authzid>],\x01auth=Bearer <token>\x01[key=value\x01]*\x01
 *
 * Error messages name the part that is wrong and never echo a value: the `auth` value carries
 * the token, and extension values may carry secrets too.
 */

export interface OAuthBearerClientMessage {
  token: string;
  /** The authorization identity from the GS2 header, with =2C and =3D decoded. */
  authzid?: string;
  /** SASL extensions (KIP-342), e.g. librdkafka's sasl.oauthbearer.extensions. */
  extensions: Record<string, string>;
}

export class SaslMessageError extends Error {
  override readonly name = 'SaslMessageError';
  constructor(reason: string) {
    super(`invalid OAUTHBEARER client first message: ${reason}`);
  }
}

const SEPARATOR = '\x01';
const KEY = /^[A-Za-z]+$/;
const VALUE = /^[\x21-\x7E \t\r\n]+$/;
/** RFC 6750 credentials: scheme, one or more spaces, b64token. */
const AUTH_VALUE = /^([A-Za-z]+) +([-_~+/.a-zA-Z0-9]+=*)$/;
/** RFC 5801 saslname, minus control characters (an authzid ends up in logs). */
const AUTHZID = /^(?:[^\x00-\x1F\x7F,=]|=2C|=3D)+$/u;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The single byte 0x01 a Kafka client sends to acknowledge an error challenge
 * (`{"status":"invalid_token"}`) before the server fails the authentication.
 */
export function isClientErrorAck(bytes: Uint8Array): boolean {
  return bytes.length === 1 && bytes[0] === 0x01;
}

export function parseOAuthBearerClientMessage(bytes: Uint8Array): OAuthBearerClientMessage {
  if (bytes.length === 0) throw new SaslMessageError('empty message');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new SaslMessageError('not valid UTF-8');
  }
  const { authzid, rest } = parseGs2Header(text);
  if (!rest.startsWith(SEPARATOR)) throw new SaslMessageError('expected \\x01 after the GS2 header');
  if (rest.length < 2 || !rest.endsWith(SEPARATOR + SEPARATOR)) throw new SaslMessageError('message does not end with \\x01\\x01');

  // Every key=value pair ends with \x01, so splitting leaves one empty string at the end.
  const pairs = rest.slice(1, -1).split(SEPARATOR);
  pairs.pop();
  const values = new Map<string, string>();
  pairs.forEach((pair, i) => {
    if (pair === '') throw new SaslMessageError('data after the closing \\x01\\x01');
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq);
    if (!KEY.test(key)) throw new SaslMessageError(`key-value pair ${i + 1} has no key of letters followed by "="`);
    if (values.has(key)) throw new SaslMessageError(`key ${quoted(key)} appears more than once`);
    if (!VALUE.test(pair.slice(eq + 1))) throw new SaslMessageError(`value of ${quoted(key)} is empty or not printable ASCII`);
    values.set(key, pair.slice(eq + 1));
  });

  const auth = values.get('auth');
  if (auth === undefined) throw new SaslMessageError('no "auth" key');
  values.delete('auth');
  const match = AUTH_VALUE.exec(auth);
  if (!match) throw new SaslMessageError('"auth" is not "Bearer <token>" with a token of base64url characters');
  if (match[1].toLowerCase() !== 'bearer') throw new SaslMessageError('"auth" scheme is not Bearer');

  const message: OAuthBearerClientMessage = { token: match[2], extensions: Object.fromEntries(values) };
  if (authzid !== undefined) message.authzid = authzid;
  return message;
}

/** Splits off `n,` + optional `a=<authzid>` + `,`; channel binding (`p=`, `y`) is refused as Kafka does. */
function parseGs2Header(text: string): { authzid?: string; rest: string } {
  if (!text.startsWith('n,')) {
    const flag = text.startsWith('p=') ? 'p' : text.startsWith('y,') ? 'y' : undefined;
    throw new SaslMessageError(flag ? `channel binding flag "${flag}" is not supported` : 'GS2 header does not start with "n,"');
  }
  const end = text.indexOf(',', 2);
  if (end < 0) throw new SaslMessageError('GS2 header has no closing ","');
  const field = text.slice(2, end);
  const rest = text.slice(end + 1);
  if (field === '') return { rest };
  if (!field.startsWith('a=')) throw new SaslMessageError('GS2 header field is not "a=<authzid>"');
  const raw = field.slice(2);
  if (!AUTHZID.test(raw)) throw new SaslMessageError('authzid is empty or has characters other than printable text, =2C and =3D');
  return { authzid: raw.replace(/=2C|=3D/g, (escape) => (escape === '=2C' ? ',' : '=')), rest };
}

import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { JSONWebKeySet, JWK } from 'jose';

/** Key types that can verify an allowed algorithm; `oct` (HMAC) keys never can. */
const PUBLIC_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);
/** JWK members that only private or symmetric keys have. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** The URL as it may appear in logs and errors: no user info, query or fragment. */
export function describeJwksUrl(url: string): string {
  const u = new URL(url);
  return u.protocol === 'file:' ? u.href.replace(/[?#].*$/, '') : `${u.origin}${u.pathname}`;
}

/** Reads a JWKS document from an http(s):// or file:// URL. Errors say why without quoting the body. */
export async function fetchJwksText(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    if ((await stat(path)).size > maxBytes) throw new Error(`file is larger than ${maxBytes} bytes`);
    return readFile(path, 'utf8');
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new Error(fetchFailure(e, timeoutMs));
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return readCapped(response, maxBytes, timeoutMs);
}

async function readCapped(response: Response, maxBytes: number, timeoutMs: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new Error(`response is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    throw new Error(fetchFailure(e, timeoutMs));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function fetchFailure(e: unknown, timeoutMs: number): string {
  const error = e as Error & { cause?: { code?: string } };
  if (error.name === 'TimeoutError') return `no complete answer within ${timeoutMs} ms`;
  return error.cause?.code ? `${error.message} (${error.cause.code})` : error.message;
}

/**
 * Parses a JWKS and keeps only keys that may verify signatures: public RSA/EC/OKP keys with a
 * kid and `use` absent or "sig". Throws when none is left, so the caller keeps its last good set.
 */
export function parseJwks(text: string): { jwks: JSONWebKeySet; dropped: number } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input; keep key material out of logs.
    throw new Error('response is not JSON');
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('response has no "keys" array');
  const usable = keys.filter(isVerificationKey);
  if (usable.length === 0) {
    throw new Error(`none of the ${keys.length} keys is a public RSA, EC or OKP key with a kid and use "sig" or no use`);
  }
  return { jwks: { keys: usable }, dropped: keys.length - usable.length };
}

function isVerificationKey(key: unknown): key is JWK {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
  const jwk = key as JWK;
  return (
    typeof jwk.kty === 'string' &&
    PUBLIC_KEY_TYPES.has(jwk.kty) &&
    typeof jwk.kid === 'string' &&
    jwk.kid !== '' &&
    (jwk.use === undefined || jwk.use === 'sig') &&
    SECRET_MEMBERS.every((member) => !(member in jwk))
  );
}

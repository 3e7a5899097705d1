import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface DevClient {
  secret: string;
  subject: string;
  roles: string[];
}

/** An RFC 6749 §5.2 error response; descriptions never carry a secret. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope',
    description: string,
    readonly clientId?: string,
  ) {
    super(description);
  }
}

export interface TokenGrant {
  clientId: string;
  client: DevClient;
  scope?: string;
}

/** RFC 6749 §3.3: space-separated scope tokens of printable ASCII except `"` and `\`. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;

/**
 * Reads a client-credentials token request (RFC 6749 §4.4) the way Kafka's Java
 * OAuthBearerLoginCallbackHandler and librdkafka's oidc method send it: a form body with
 * grant_type and optional scope, the client authenticated by HTTP Basic or by client_id and
 * client_secret form fields (§2.3.1).
 */
export function parseTokenRequest(headers: IncomingHttpHeaders, body: string, clients: ReadonlyMap<string, DevClient>): TokenGrant {
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new OAuthError(400, 'invalid_request', 'expected an application/x-www-form-urlencoded body');
  const form = new URLSearchParams(body);
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) throw new OAuthError(400, 'invalid_request', `parameter "${name}" appears more than once`);
  }
  const { clientId, client } = authenticateClient(headers.authorization, form, clients);
  const grantType = form.get('grant_type');
  if (grantType === null) throw new OAuthError(400, 'invalid_request', 'grant_type is missing', clientId);
  if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported', clientId);
  const scope = form.get('scope') ?? undefined;
  if (scope !== undefined && !SCOPE.test(scope)) throw new OAuthError(400, 'invalid_scope', 'scope is not a space-separated list of scope tokens', clientId);
  return scope === undefined ? { clientId, client } : { clientId, client, scope };
}

function authenticateClient(authorization: string | undefined, form: URLSearchParams, clients: ReadonlyMap<string, DevClient>) {
  const formId = form.get('client_id') ?? undefined;
  const formSecret = form.get('client_secret') ?? undefined;
  let candidates: Array<{ id: string; secret: string }>;
  if (authorization !== undefined) {
    if (formSecret !== undefined) throw new OAuthError(400, 'invalid_request', 'use either HTTP Basic or client_secret, not both');
    const basic = basicCredentials(authorization);
    // RFC 6749 §2.3.1 has clients form-encode id and secret inside Basic; Kafka's Java client only
    // does so with sasl.oauthbearer.header.urlencode=true, librdkafka never: accept both forms.
    candidates = [basic, { id: formDecode(basic.id), secret: formDecode(basic.secret) }];
  } else if (formId !== undefined && formSecret !== undefined) {
    candidates = [{ id: formId, secret: formSecret }];
  } else {
    throw new OAuthError(401, 'invalid_client', 'no client credentials (HTTP Basic, or client_id and client_secret)');
  }
  const found = candidates.find(({ id, secret }) => {
    const client = clients.get(id);
    return client !== undefined && sameSecret(secret, client.secret);
  });
  if (!found) throw new OAuthError(401, 'invalid_client', 'unknown client or wrong secret', candidates[0].id);
  if (formId !== undefined && formId !== found.id) throw new OAuthError(400, 'invalid_request', 'client_id differs from the authenticated client', found.id);
  return { clientId: found.id, client: clients.get(found.id) as DevClient };
}

function basicCredentials(authorization: string): { id: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization);
  const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError(401, 'invalid_client', 'the Authorization header is not HTTP Basic "id:secret"');
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}

/** Compares digests so the time taken does not depend on how much of the secret was right. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

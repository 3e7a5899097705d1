import type { CredentialLookup } from '../../src/auth/aws/credential-store.js';
import type { AwsCredential } from '../../src/auth/aws/credentials-file.js';
import { presignedSignature, signedQueryPairs, uriEncode } from '../../src/auth/aws/sigv4.js';

/** The key, time and region of PROTOCOL-NOTES §4's test vectors. */
export const ACCESS_KEY_ID = 'AKIDEXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE/SESSION+TOKEN=';
export const SIGNED_AT = '20240115T120000Z';
export const SIGNED_AT_MS = Date.UTC(2024, 0, 15, 12, 0, 0);
export const PROXY_HOST = 'b-1.proxy.example.com';
export const AWS_HOST = 'kafka.us-east-1.amazonaws.com';

export interface SignParams {
  accessKeyId?: string;
  secret?: string;
  date?: string;
  region?: string;
  host?: string;
  expires?: string;
  securityToken?: string;
}

function signedFields(p: SignParams) {
  const date = p.date ?? SIGNED_AT;
  const region = p.region ?? 'us-east-1';
  const query = {
    action: 'kafka-cluster:Connect',
    algorithm: 'AWS4-HMAC-SHA256',
    credential: `${p.accessKeyId ?? ACCESS_KEY_ID}/${date.slice(0, 8)}/${region}/kafka-cluster/aws4_request`,
    date,
    expires: p.expires ?? '900',
    signedHeaders: 'host',
    ...(p.securityToken === undefined ? {} : { securityToken: p.securityToken }),
  };
  const host = p.host ?? PROXY_HOST;
  return { query, host, signature: presignedSignature(p.secret ?? SECRET, region, host, query) };
}

/** An AWS_MSK_IAM payload object as the Java client and franz-go send it. */
export function mskIamPayload(p: SignParams = {}): Record<string, string> {
  const { query, host, signature } = signedFields(p);
  return {
    version: '2020_10_22',
    host,
    'user-agent': 'aws-msk-iam-auth/2.2.0',
    action: query.action,
    'x-amz-algorithm': query.algorithm,
    'x-amz-credential': query.credential,
    'x-amz-date': query.date,
    'x-amz-expires': query.expires,
    'x-amz-signedheaders': query.signedHeaders,
    ...(query.securityToken === undefined ? {} : { 'x-amz-security-token': query.securityToken }),
    'x-amz-signature': signature,
  };
}

export function bytes(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

/**
 * An IAM OAUTHBEARER token: `userAgent: 'last'` as the Python signer appends it, `'sorted'` as the
 * JS signer 1.0.3 and Go sort it in. `edit` may change the query pairs after signing.
 */
export function iamToken(
  p: SignParams = {},
  userAgent: 'last' | 'sorted' = 'last',
  edit: (pairs: Array<[string, string]>) => Array<[string, string]> = (pairs) => pairs,
): string {
  const { query, host, signature } = signedFields({ host: AWS_HOST, ...p });
  let pairs = signedQueryPairs(query);
  pairs.push(['X-Amz-Signature', signature], ['User-Agent', 'test-signer/1.0']);
  if (userAgent === 'sorted') pairs.sort(([a], [b]) => (a < b ? -1 : 1));
  pairs = edit(pairs);
  const url = `https://${host}/?${pairs.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}`;
  return Buffer.from(url).toString('base64url');
}

export function credential(overrides: Partial<AwsCredential> = {}): AwsCredential {
  return { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET, principal: 'User:alice', roles: ['producer'], ...overrides };
}

export function storeOf(...credentials: AwsCredential[]): CredentialLookup {
  const byId = new Map(credentials.map((c) => [c.accessKeyId, c]));
  return { lookup: (id) => byId.get(id), generation: 0 };
}

/**
 * Signing keys, honest tokens, and the bad tokens a validator must refuse: unsigned (alg none),
 * HMAC-"signed" with the public key, an unknown kid, a stranger's key, a tampered payload.
 * Used by the unit tests and by integration tests that hand such tokens to real clients.
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, type JWK, type JWTPayload, SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose';

export type SigningAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export interface TestKey {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public half as it goes into a JWKS (kid, alg and use set). */
  publicJwk: JWK;
}

export async function createTestKey(alg: SigningAlg = 'RS256', kid: string = `test-${randomUUID()}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, publicJwk };
}

export interface ClaimOptions {
  issuer: string;
  audience: string | string[];
  subject?: string;
  /** Seconds until exp (negative for an expired token); default 300. */
  expiresIn?: number;
  /** Seconds since the epoch to count from; default now. */
  now?: number;
  extra?: Record<string, unknown>;
}

/** A complete claim set (iss, aud, sub, iat, exp, jti) plus `extra`; an `extra` value of undefined removes a claim. */
export function claimsFor(options: ClaimOptions): JWTPayload {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    aud: options.audience,
    sub: options.subject ?? 'alice',
    iat: now,
    exp: now + (options.expiresIn ?? 300),
    jti: randomUUID(),
    ...options.extra,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return claims;
}

/** An honestly signed token; `header` overrides (e.g. another kid) go into the protected header. */
export function signToken(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

const encodePart = (value: unknown) => base64url.encode(JSON.stringify(value));

/** `alg: none` with an empty signature, naming a real kid so only the algorithm check can stop it. */
export function unsignedToken(claims: JWTPayload, kid?: string): string {
  return `${encodePart({ alg: 'none', typ: 'JWT', kid })}.${encodePart(claims)}.`;
}

/**
 * The classic key-confusion attack: HS256 with the verifier's public key (its PEM text, the
 * form a naive verifier would feed to HMAC) as the shared secret, under the real kid.
 */
export async function hmacWithPublicKeyToken(key: TestKey, claims: JWTPayload): Promise<string> {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' }).sign(secret);
}

/** Correctly signed, but naming a kid the JWKS does not have. */
export function unknownKidToken(key: TestKey, claims: JWTPayload, kid = 'no-such-kid'): Promise<string> {
  return signToken(key, claims, { kid });
}

/** Signed by a freshly generated key while claiming the trusted key's kid: a bad signature. */
export async function foreignKeyToken(trusted: TestKey, claims: JWTPayload): Promise<string> {
  const stranger = await createTestKey(trusted.alg, trusted.kid);
  return signToken(stranger, claims);
}

/** A valid token with its payload swapped for `claims` and the original signature kept. */
export function tamperedToken(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${encodePart(claims)}.${signature}`;
}

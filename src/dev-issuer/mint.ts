import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKeys } from './signing-keys.js';

export interface MintOptions {
  subject: string;
  roles?: string[];
  /** Negative values give an already expired token, for tests. */
  expiresInSeconds?: number;
  /** Added last, so they can override or (with undefined) remove any standard claim. */
  claims?: Record<string, unknown>;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  rolesClaim: string;
  lifetimeSeconds: number;
}

/** Signs a token with the current key: sub, iss, aud, iat, exp, jti, the roles claim and scope. */
export function mintToken(keys: SigningKeys, settings: TokenSettings, options: MintOptions & { scope?: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sub: options.subject,
    iss: settings.issuer,
    aud: settings.audience,
    iat: now,
    exp: now + (options.expiresInSeconds ?? settings.lifetimeSeconds),
    jti: randomUUID(),
  };
  if (options.scope !== undefined) payload.scope = options.scope;
  setAtPath(payload, settings.rolesClaim, options.roles ?? []);
  const { kid, privateKey } = keys.current;
  // Spread (not assignment) so a "__proto__" key from a JSON body stays a plain claim.
  return new SignJWT({ ...payload, ...options.claims }).setProtectedHeader({ alg: keys.alg, kid, typ: 'JWT' }).sign(privateKey);
}

/** Writes a dotted claim path ("realm_access.roles") as nested objects, as the validator reads it. */
function setAtPath(payload: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  const last = parts.pop() as string;
  let target = payload;
  for (const part of parts) {
    const next = target[part];
    target = typeof next === 'object' && next !== null && !Array.isArray(next) ? (next as Record<string, unknown>) : (target[part] = {});
  }
  target[last] = value;
}

import { type CryptoKey, type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

export type DevIssuerAlg = 'RS256' | 'ES256';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * The dev issuer's key ring: one current signing key, plus keys replaced by a rotation, which
 * stay in the JWKS for a grace period so tokens they signed keep verifying until they expire.
 */
export class SigningKeys {
  private retired: Array<{ key: SigningKey; untilMs: number }> = [];

  private constructor(
    readonly alg: DevIssuerAlg,
    private readonly graceMs: number,
    public current: SigningKey,
  ) {}

  static async create(alg: DevIssuerAlg, graceSeconds: number): Promise<SigningKeys> {
    return new SigningKeys(alg, graceSeconds * 1000, await generate(alg));
  }

  /** Replaces the signing key; returns the new kid. */
  async rotate(): Promise<string> {
    const next = await generate(this.alg);
    this.retired.push({ key: this.current, untilMs: Date.now() + this.graceMs });
    this.current = next;
    return next.kid;
  }

  jwks(): { keys: JWK[] } {
    const now = Date.now();
    this.retired = this.retired.filter((r) => r.untilMs > now);
    return { keys: [this.current.publicJwk, ...this.retired.map((r) => r.key.publicJwk)] };
  }
}

async function generate(alg: DevIssuerAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  // The RFC 7638 thumbprint: a kid that is unique per key without keeping a counter.
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

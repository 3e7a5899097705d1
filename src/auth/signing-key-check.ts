import { type CredentialCheck, type CredentialVerdict, revoked } from './credential-check.js';
import type { SigningKeyRef } from './jwks-cache.js';

/** What a signing-key check needs of the JWKS cache. */
export interface SigningKeySource {
  readonly generation: number;
  fingerprintOf(kid: string): string | undefined;
}

/**
 * Re-checks an OAUTHBEARER session's JWT after the JWKS was refreshed: the key that verified it
 * must still be in the JWKS, unchanged. The token itself is not kept (nor needed): its
 * signature held under that key, so it still holds while the key does.
 */
export class SigningKeyCheck implements CredentialCheck {
  private checkedGeneration: number;

  constructor(
    private readonly keys: SigningKeySource,
    private readonly signingKey: SigningKeyRef,
    /** The token's roles: claims of the token, which only a new token changes. */
    private readonly roles: readonly string[],
  ) {
    this.checkedGeneration = signingKey.generation;
  }

  recheckIfReloaded(): CredentialVerdict | undefined {
    if (this.keys.generation === this.checkedGeneration) return undefined;
    this.checkedGeneration = this.keys.generation;
    const fingerprint = this.keys.fingerprintOf(this.signingKey.kid);
    if (fingerprint === undefined) return revoked('signing-key-removed');
    if (fingerprint !== this.signingKey.fingerprint) return revoked('signing-key-changed');
    return { valid: true, roles: this.roles, expiresAtMs: null };
  }
}

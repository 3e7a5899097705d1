import { createHash } from 'node:crypto';
import { type CredentialCheck, type CredentialVerdict, revoked } from '../credential-check.js';
import type { CredentialLookup } from './credential-store.js';
import type { AwsCredential } from './credentials-file.js';

/**
 * Re-checks a session's AWS access key (AWS_MSK_IAM, or an IAM token over OAUTHBEARER) after
 * the credentials file was reloaded: the key must still be there, with the same secret and
 * session token and the same principal; its roles are read again, so changed roles apply.
 */
export class AccessKeyCheck implements CredentialCheck {
  private checkedGeneration: number;
  private readonly accessKeyId: string;
  private readonly principal: string;
  /** A digest of what the client signed with, so the session keeps no key material. */
  private readonly signingMaterial: string;

  constructor(
    private readonly store: CredentialLookup,
    signedWith: AwsCredential,
  ) {
    // Verification and this constructor run in the same tick: no reload can fall between them.
    this.checkedGeneration = store.generation;
    this.accessKeyId = signedWith.accessKeyId;
    this.principal = signedWith.principal;
    this.signingMaterial = signingMaterialOf(signedWith);
  }

  recheckIfReloaded(now: number): CredentialVerdict | undefined {
    if (this.store.generation === this.checkedGeneration) return undefined;
    this.checkedGeneration = this.store.generation;
    const current = this.store.lookup(this.accessKeyId);
    if (!current) return revoked('credential-removed');
    // The signature that opened the session proves the client held the old secret, nothing about the new one.
    if (signingMaterialOf(current) !== this.signingMaterial) return revoked('secret-changed');
    if (current.principal !== this.principal) return revoked('principal-changed');
    if (current.expiresAtMs !== undefined && now >= current.expiresAtMs) return revoked('credential-expired');
    return { valid: true, roles: current.roles, expiresAtMs: current.expiresAtMs ?? null };
  }
}

/** JSON keeps the two fields apart, so no secret/token split can collide with another. */
function signingMaterialOf(credential: AwsCredential): string {
  return createHash('sha256')
    .update(JSON.stringify([credential.secretAccessKey, credential.sessionToken ?? null]))
    .digest('base64');
}

/**
 * Why a live session's credential stopped holding after its source was reloaded. A class of
 * reason for logs and metric labels: never a value taken from the credential.
 */
export type RevocationReason =
  /** The access key is gone from the credentials file. */
  | 'credential-removed'
  /** The key's secret or session token changed: the client's signature was made with the old one. */
  | 'secret-changed'
  /** The key now stands for another principal; a session never changes principal. */
  | 'principal-changed'
  /** The credentials file now gives the key an expiry that has passed. */
  | 'credential-expired'
  /** The JWKS no longer has the key (kid) that signed the session's token. */
  | 'signing-key-removed'
  /** The JWKS has other key material under the token's kid: the token's signature no longer verifies. */
  | 'signing-key-changed';

/** A credential re-checked against its reloaded source. */
export type CredentialVerdict =
  | { valid: true; roles: readonly string[]; expiresAtMs: number | null }
  | { valid: false; reason: RevocationReason };

/**
 * How a session re-checks the credential it authenticated with. Each source (credentials file,
 * JWKS) counts its reloads in a generation; a check re-examines the credential only when that
 * number moved since it last looked, so requests in between cost one comparison.
 */
export interface CredentialCheck {
  /** undefined when the source was not reloaded since the last call; otherwise what holds now. */
  recheckIfReloaded(now: number): CredentialVerdict | undefined;
}

export function revoked(reason: RevocationReason): CredentialVerdict {
  return { valid: false, reason };
}

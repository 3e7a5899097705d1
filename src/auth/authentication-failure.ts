/**
 * Why an authentication failed, as a class for metric labels and dashboards: a fixed set, never
 * a value from the credential. The human-readable reason (for the client and the log line)
 * travels beside it.
 */
export type AuthenticationFailure =
  /** The token, signature or stored credential has expired. */
  | 'expired'
  /** The token's nbf is still ahead. */
  | 'not-yet-valid'
  /** A SigV4 signature dated further in the future than the allowed clock skew. */
  | 'clock-skew'
  /** The JWT's signature does not verify, or uses an algorithm the proxy refuses. */
  | 'bad-signature'
  /** The JWKS has no (single, fitting) key under the token's kid. */
  | 'unknown-key'
  /** The JWKS has not been loaded, or not refreshed for longer than jwksMaxStaleSeconds. */
  | 'jwks-unavailable'
  | 'wrong-audience'
  | 'wrong-issuer'
  /** A SigV4 credential scoped to another region than the proxy's. */
  | 'wrong-region'
  /** A SigV4 signature for a host that is not this proxy's. */
  | 'wrong-host'
  /** A required claim (exp, iat, the principal claim) is absent. */
  | 'missing-claim'
  /** The client's message, token or payload is not what the mechanism expects. */
  | 'malformed'
  | 'unknown-access-key'
  /** The SigV4 signature (or session token) does not match the stored credential. */
  | 'signature-mismatch'
  /** MTLS: no client certificate, or one the listener's CA does not trust. */
  | 'untrusted-certificate'
  /** MTLS: the principal mapping rules give no principal for the certificate subject. */
  | 'no-principal-mapping'
  /** A mechanism, or a credential kind, the listener does not accept. */
  | 'unsupported-mechanism'
  /** A request out of order in the SASL exchange. */
  | 'illegal-state'
  | 'other';

/** Who a connection authenticated as, and until when. */
export interface Identity {
  principal: string;
  roles: string[];
  mechanism: string;
  /** When the credential stops being valid (token exp, signature expiry), or null if never. */
  expiresAtMs: number | null;
}

/** Thrown by a mechanism for a credential it refuses; the message is safe to show the client. */
export class AuthenticationFailed extends Error {
  override readonly name = 'AuthenticationFailed';
}

/**
 * A SASL mechanism the proxy terminates. Both OAUTHBEARER and AWS_MSK_IAM take exactly one
 * client message and answer it once.
 */
export interface SaslMechanism {
  readonly name: string;
  /** Verifies the client's message; resolves with the identity and the bytes to send back. */
  authenticate(clientMessage: Buffer): Promise<{ identity: Identity; reply: Buffer }>;
}

import type { AuthenticationFailure } from '../auth/authentication-failure.js';
import type { CredentialCheck } from '../auth/credential-check.js';
import { identityProblem } from '../auth/principal-name.js';

/** Who a connection authenticated as, and until when. */
export interface Identity {
  principal: string;
  roles: string[];
  mechanism: string;
  /** When the credential stops being valid (token exp, signature expiry), or null if never. */
  expiresAtMs: number | null;
  /** How the session re-checks its credential after the credentials file or the JWKS is reloaded. */
  credential?: CredentialCheck;
}

/** Thrown by a mechanism for a credential it refuses; the message is safe to show the client, `failure` is its class. */
export class AuthenticationFailed extends Error {
  override readonly name = 'AuthenticationFailed';

  constructor(
    readonly failure: AuthenticationFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The identity, if the proxy can log and cache its principal and roles safely; else a failed
 * authentication (a principal "carol\u0000admin" must never pass for someone else).
 */
export function acceptableIdentity(identity: Identity): Identity {
  const problem = identityProblem(identity.principal, identity.roles);
  if (problem) throw new AuthenticationFailed('malformed', `credential refused: ${problem}`);
  return identity;
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

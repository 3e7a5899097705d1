import { randomUUID } from 'node:crypto';
import { AccessKeyCheck } from '../auth/aws/access-key-check.js';
import { ConnectRejected, verifyConnectRequest } from '../auth/aws/connect-request.js';
import type { CredentialLookup } from '../auth/aws/credential-store.js';
import { MSK_IAM_VERSION, parseMskIamPayload } from '../auth/aws/msk-iam-payload.js';
import { AuthenticationFailed, type Identity, type SaslMechanism, acceptableIdentity } from './mechanism.js';

/** AWS's own tolerance for SigV4 request dates; applied to both ends of the signature's validity. */
export const DEFAULT_AWS_CLOCK_SKEW_SECONDS = 300;

export interface AwsIamSettings {
  /** The region every signature must be scoped to (`awsMskIam.region`). */
  region: string;
  clockSkewSeconds?: number;
  now?: () => number;
}

export interface AwsMskIamSettings extends AwsIamSettings {
  /** Whether `host` (lower case) is one of the listener's advertised hosts: the `host` a client signs is the one it dialed. */
  allowsHost(host: string): boolean;
}

/**
 * AWS_MSK_IAM terminated by the proxy: the client's one JSON message is checked as MSK checks it
 * (PROTOCOL-NOTES §4) against the access keys in the credential store, and answered with the
 * version and a request id, as the Java client requires.
 */
export class AwsMskIamMechanism implements SaslMechanism {
  readonly name = 'AWS_MSK_IAM';

  constructor(
    private readonly store: CredentialLookup,
    private readonly settings: AwsMskIamSettings,
  ) {}

  async authenticate(clientMessage: Buffer): Promise<{ identity: Identity; reply: Buffer }> {
    const verified = verifyOrFail(() =>
      verifyConnectRequest(parseMskIamPayload(clientMessage), this.store, {
        region: this.settings.region,
        allowsHost: this.settings.allowsHost,
        clockSkewSeconds: this.settings.clockSkewSeconds ?? DEFAULT_AWS_CLOCK_SKEW_SECONDS,
        fractionalExpires: false,
        now: this.settings.now ?? Date.now,
      }),
    );
    return {
      // The session lasts as long as the stored credential, not the signature: the signature only gates the login.
      identity: acceptableIdentity({
        principal: verified.principal,
        roles: verified.roles,
        mechanism: this.name,
        expiresAtMs: verified.credentialExpiresAtMs,
        credential: new AccessKeyCheck(this.store, verified.signedWith),
      }),
      reply: Buffer.from(JSON.stringify({ version: MSK_IAM_VERSION, 'request-id': randomUUID() })),
    };
  }
}

/** Runs a verification, turning its refusal into the SASL failure the client is shown. */
export function verifyOrFail<T>(verify: () => T): T {
  try {
    return verify();
  } catch (e) {
    if (e instanceof ConnectRejected) throw new AuthenticationFailed(e.failure, e.message);
    throw e;
  }
}

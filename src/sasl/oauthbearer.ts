import type { CredentialLookup } from '../auth/aws/credential-store.js';
import { quoted } from '../observe/client-text.js';
import { OAuthTokenValidator, TokenRejectedError } from '../auth/oauth-validator.js';
import { type AwsIamSettings } from './aws-msk-iam.js';
import { isIamOAuthToken, verifyIamOAuthToken } from './aws-iam-oauthbearer.js';
import { AuthenticationFailed, type Identity, type SaslMechanism, acceptableIdentity } from './mechanism.js';
import { SaslMessageError, parseOAuthBearerClientMessage } from './oauthbearer-message.js';

/** Where IAM tokens sent over OAUTHBEARER (the MSK IAM signers' presigned URLs) are checked. */
export interface IamOverOAuth {
  store: CredentialLookup;
  settings: AwsIamSettings;
}

/**
 * OAUTHBEARER terminated by the proxy: the client's GS2 message parsed strictly, then either
 * its JWT verified against the JWKS or, for the MSK IAM signers' tokens, their SigV4 signature
 * checked against the AWS credential store; an authorization id (if sent) must be the principal.
 */
export class OAuthBearerMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER';

  constructor(
    private readonly validator: OAuthTokenValidator | undefined,
    private readonly iam: IamOverOAuth | undefined,
  ) {}

  async authenticate(clientMessage: Buffer): Promise<{ identity: Identity; reply: Buffer }> {
    let message;
    try {
      message = parseOAuthBearerClientMessage(clientMessage);
    } catch (e) {
      if (e instanceof SaslMessageError) throw new AuthenticationFailed('malformed', e.message);
      throw e;
    }
    const identity = acceptableIdentity(await this.verify(message.token));
    if (message.authzid !== undefined && message.authzid !== identity.principal) {
      throw new AuthenticationFailed('other', `authorization id ${quoted(message.authzid)} is not the token's principal`);
    }
    return { identity, reply: Buffer.alloc(0) };
  }

  private async verify(token: string): Promise<Identity> {
    if (isIamOAuthToken(token)) {
      if (!this.iam) throw new AuthenticationFailed('unsupported-mechanism', 'AWS IAM tokens are not accepted here (no awsMskIam configured)');
      return verifyIamOAuthToken(token, this.iam.store, this.iam.settings);
    }
    if (!this.validator) throw new AuthenticationFailed('unsupported-mechanism', 'JWT bearer tokens are not accepted here (no oauthbearer configured)');
    try {
      const t = await this.validator.validate(token);
      return { principal: t.principal, roles: t.roles, mechanism: this.name, expiresAtMs: t.expiresAtMs, credential: this.validator.checkFor(t) };
    } catch (e) {
      if (e instanceof TokenRejectedError) throw new AuthenticationFailed(e.failure, e.message);
      throw e;
    }
  }
}

import { OAuthTokenValidator, TokenRejectedError } from '../auth/oauth-validator.js';
import { AuthenticationFailed, type Identity, type SaslMechanism } from './mechanism.js';
import { SaslMessageError, parseOAuthBearerClientMessage } from './oauthbearer-message.js';

const MAX_AUTHZID_IN_MESSAGE = 64;

/**
 * OAUTHBEARER terminated by the proxy: the client's GS2 message parsed strictly, its JWT
 * verified against the JWKS, and an authorization id (if sent) required to be the principal.
 */
export class OAuthBearerMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER';

  constructor(private readonly validator: OAuthTokenValidator) {}

  async authenticate(clientMessage: Buffer): Promise<{ identity: Identity; reply: Buffer }> {
    let message;
    try {
      message = parseOAuthBearerClientMessage(clientMessage);
    } catch (e) {
      if (e instanceof SaslMessageError) throw new AuthenticationFailed(e.message);
      throw e;
    }
    let token;
    try {
      token = await this.validator.validate(message.token);
    } catch (e) {
      if (e instanceof TokenRejectedError) throw new AuthenticationFailed(e.message);
      throw e;
    }
    if (message.authzid !== undefined && message.authzid !== token.principal) {
      const shown = JSON.stringify(message.authzid.slice(0, MAX_AUTHZID_IN_MESSAGE));
      throw new AuthenticationFailed(`authorization id ${shown} is not the token's principal`);
    }
    return {
      identity: { principal: token.principal, roles: token.roles, mechanism: this.name, expiresAtMs: token.expiresAtMs },
      reply: Buffer.alloc(0),
    };
  }
}

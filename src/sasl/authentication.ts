import type { Logger } from 'pino';
import { AwsCredentialStore } from '../auth/aws/credential-store.js';
import type { JwksStatus } from '../auth/jwks-cache.js';
import { OAuthTokenValidator } from '../auth/oauth-validator.js';
import type { ListenerConfig, ProxyConfig } from '../config/schema.js';
import { ListenerAddressing } from '../proxy/addressing.js';
import { AwsMskIamMechanism } from './aws-msk-iam.js';
import type { SaslMechanism } from './mechanism.js';
import { OAuthBearerMechanism } from './oauthbearer.js';

/** What the credential sources report as they refresh, for metrics. */
export interface CredentialSourceEvents {
  jwksFetched?: (outcome: 'success' | 'failure') => void;
  credentialsReloaded?: (outcome: 'success' | 'failure') => void;
}

/**
 * The credential sources the proxy checks clients against (the JWKS-backed token validator and
 * the AWS credential store), started once and shared by every listener's mechanisms.
 */
export class Authentication {
  private constructor(
    private readonly config: ProxyConfig,
    private readonly validator: OAuthTokenValidator | undefined,
    private readonly awsStore: AwsCredentialStore | undefined,
  ) {}

  static async start(config: ProxyConfig, log: Logger, events: CredentialSourceEvents = {}): Promise<Authentication> {
    const used = new Set(config.listeners.flatMap((l) => (l.authentication === 'none' ? [] : l.authentication)));
    const oauth = config.oauthbearer;
    const validator =
      used.has('OAUTHBEARER') && oauth
        ? new OAuthTokenValidator(oauth, log.child({ component: 'jwks' }), {
            refreshIntervalMs: oauth.jwksRefreshSeconds * 1000,
            unknownKidRefreshIntervalMs: oauth.jwksUnknownKidRefreshSeconds * 1000,
            maxStaleSeconds: oauth.jwksMaxStaleSeconds,
            fetched: events.jwksFetched,
          })
        : undefined;
    const awsStore =
      used.size > 0 && config.awsMskIam
        ? new AwsCredentialStore(config.awsMskIam.credentialsFile, log.child({ component: 'aws-credentials' }), { reloaded: events.credentialsReloaded })
        : undefined;
    await awsStore?.start();
    await validator?.start();
    return new Authentication(config, validator, awsStore);
  }

  /** The mechanisms a listener offers, in its configured order; none for `authentication: none`. */
  mechanismsFor(listener: ListenerConfig): SaslMechanism[] {
    if (listener.authentication === 'none') return [];
    const advertised = new ListenerAddressing(listener);
    const aws = this.config.awsMskIam;
    const iamSettings = aws && { region: aws.region, clockSkewSeconds: aws.clockSkewSeconds };
    // MTLS is the TLS handshake's, not a SASL mechanism.
    return listener.authentication.filter((name) => name !== 'MTLS').map((name) =>
      name === 'OAUTHBEARER'
        ? new OAuthBearerMechanism(this.validator, this.awsStore && iamSettings ? { store: this.awsStore, settings: iamSettings } : undefined)
        : new AwsMskIamMechanism(this.awsStore!, { ...iamSettings!, allowsHost: (host) => advertised.servesHost(host) }),
    );
  }

  /** The JWKS the OAUTHBEARER listeners check tokens against; undefined when none does. */
  jwksStatus(): JwksStatus | undefined {
    return this.validator?.jwksStatus();
  }

  /** Longest session before a client must re-authenticate (0: only the credential's expiry). */
  get maxSessionMs(): number {
    return (this.config.oauthbearer?.maxSessionSeconds ?? 0) * 1000;
  }

  /**
   * Re-reads what can change while running (SIGHUP): the AWS credentials file and the JWKS. Live
   * sessions whose key is gone end at their next request.
   */
  async reload(): Promise<void> {
    await Promise.all([this.awsStore?.reload('SIGHUP'), this.validator?.reloadKeys('SIGHUP')]);
  }

  stop(): void {
    this.validator?.stop();
    this.awsStore?.stop();
  }
}

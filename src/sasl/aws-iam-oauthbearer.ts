import { AccessKeyCheck } from '../auth/aws/access-key-check.js';
import { verifyConnectRequest } from '../auth/aws/connect-request.js';
import type { CredentialLookup } from '../auth/aws/credential-store.js';
import { parsePresignedUrlToken } from '../auth/aws/presigned-url-token.js';
import { type AwsIamSettings, DEFAULT_AWS_CLOCK_SKEW_SECONDS, verifyOrFail } from './aws-msk-iam.js';
import type { Identity } from './mechanism.js';

/** base64url of "https://"; a JWT starts with "eyJ" instead. */
const HTTPS_PREFIX_B64 = 'aHR0cHM6Ly';

/**
 * True for the bearer token of the MSK IAM signers (a presigned URL in base64url), false for a
 * JWT (which always has dots). Only the shape is looked at; verifyIamOAuthToken does the rest.
 */
export function isIamOAuthToken(token: string): boolean {
  return token.startsWith(HTTPS_PREFIX_B64) && !token.includes('.');
}

/**
 * Verifies an IAM token sent over OAUTHBEARER with the same checks and credential store as
 * AWS_MSK_IAM. The signers always sign for `kafka.<region>.amazonaws.com`, whatever address the
 * client dialed, so that is the one host allowed. Throws AuthenticationFailed with the reason.
 */
export async function verifyIamOAuthToken(token: string, store: CredentialLookup, settings: AwsIamSettings): Promise<Identity> {
  const verified = verifyOrFail(() =>
    verifyConnectRequest(parsePresignedUrlToken(token), store, {
      region: settings.region,
      allowsHost: (host) => host === `kafka.${settings.region.toLowerCase()}.amazonaws.com`,
      clockSkewSeconds: settings.clockSkewSeconds ?? DEFAULT_AWS_CLOCK_SKEW_SECONDS,
      fractionalExpires: true,
      now: settings.now ?? Date.now,
    }),
  );
  // Like a JWT's exp: Kafka ends an OAUTHBEARER session when its token expires.
  const expiresAtMs = Math.min(verified.signatureExpiresAtMs, verified.credentialExpiresAtMs ?? Number.POSITIVE_INFINITY);
  return { principal: verified.principal, roles: verified.roles, mechanism: 'OAUTHBEARER', expiresAtMs, credential: new AccessKeyCheck(store, verified.signedWith) };
}

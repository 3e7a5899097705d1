import { describe, expect, it } from 'vitest';
import { parseCredentialsFile } from '../../src/auth/aws/credentials-file.js';
import { MAX_PRINCIPAL_LENGTH, identityProblem, principalNameProblem, roleNameProblem } from '../../src/auth/principal-name.js';
import { ConfigError } from '../../src/config/load.js';
import { AuthenticationFailed, acceptableIdentity } from '../../src/sasl/mechanism.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('principal and role names', () => {
  it('accepts the names real identities have', () => {
    for (const name of ['alice', 'User:svc-billing', 'arn:aws:iam::123456789012:role/app', 'jöns.müller@example.com', 'x'.repeat(MAX_PRINCIPAL_LENGTH)]) {
      expect(principalNameProblem(name), name).toBeUndefined();
    }
    expect(roleNameProblem('orders-writer')).toBeUndefined();
  });

  it('refuses control characters (C0, DEL, C1) and over-long principals, without quoting the name', () => {
    for (const c of ['\u0000', '\n', '\u001b', '\u007f', '\u0085', '\u009f']) {
      expect(principalNameProblem(`carol${c}admin`)).toBe('principal contains a control character');
      expect(roleNameProblem(`admin${c}`)).toBe('a role name contains a control character');
    }
    expect(principalNameProblem('x'.repeat(MAX_PRINCIPAL_LENGTH + 1))).toBe('principal is longer than 255 characters');
    expect(identityProblem('carol', ['team-a', 'admin\u0000'])).toBe('a role name contains a control character');
  });

  it('makes such an identity a failed authentication, whichever mechanism built it', () => {
    const identity = { principal: 'carol\u0000admin', roles: ['team-a'], mechanism: 'OAUTHBEARER', expiresAtMs: null };
    expect(() => acceptableIdentity(identity)).toThrow(AuthenticationFailed);
    expect(() => acceptableIdentity(identity)).toThrow('credential refused: principal contains a control character');
    expect(acceptableIdentity({ ...identity, principal: 'carol' })).toMatchObject({ principal: 'carol' });
  });

  it('refuses such names in the AWS credentials file at load, by path', () => {
    const file = `accessKeys:\n  AKID1:\n    secretAccessKey: ${SECRET}\n    principal: "carol\\0admin"\n    roles: ["ok", "bad\\x1b[31m"]\n`;
    let problems: string[] = [];
    try {
      parseCredentialsFile(file, 'creds.yaml');
    } catch (e) {
      problems = (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
    expect(problems).toEqual(['accessKeys.AKID1.principal: principal contains a control character', 'accessKeys.AKID1.roles[1]: a role name contains a control character']);
  });
});

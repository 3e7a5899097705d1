import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/check-config.js';
import { formatProblem } from '../../src/config/load.js';

const SECRET = 'do-not-print-this-secret-0123456789';

function configWithCredentials(credentials: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'kap-check-'));
  if (credentials !== undefined) writeFileSync(join(dir, 'aws.yaml'), credentials);
  const config = join(dir, 'proxy.yaml');
  writeFileSync(
    config,
    [
      'upstream: { bootstrapServers: ["127.0.0.1:9092"] }',
      'listeners:',
      '  - { name: iam, port: 19092, advertisedHost: localhost, brokerPorts: { base: 19100 }, authentication: [AWS_MSK_IAM] }',
      'awsMskIam: { region: us-east-1, credentialsFile: aws.yaml }',
      '',
    ].join('\n'),
  );
  return config;
}

// `kafka-auth-proxy check` refuses what would stop the proxy from starting: a broken AWS
// credentials file is one, so check reads it too.
describe('checkConfigFile and the AWS credentials file', () => {
  it('accepts a valid credentials file', () => {
    const file = configWithCredentials(`accessKeys:\n  AKIAEXAMPLE0001:\n    secretAccessKey: ${SECRET}\n    principal: User:alice\n`);
    expect(checkConfigFile(file).problems).toEqual([]);
  });

  it('names a missing file', () => {
    const problems = checkConfigFile(configWithCredentials(undefined)).problems.map(formatProblem);
    expect(problems).toEqual([expect.stringMatching(/aws\.yaml: cannot read: ENOENT$/)]);
  });

  it('names each problem with its path and never quotes a secret', () => {
    const file = configWithCredentials(`accessKeys:\n  AKIAEXAMPLE0001:\n    secretAccessKey: ${SECRET}\n  AKIAEXAMPLE0002:\n    secretAccessKey: short\n    principal: User:bob\n`);
    const problems = checkConfigFile(file).problems.map(formatProblem);
    expect(problems.join('\n')).toMatch(/accessKeys\.AKIAEXAMPLE0001\.principal/);
    expect(problems.join('\n')).toMatch(/accessKeys\.AKIAEXAMPLE0002\.secretAccessKey: must be at least 16 characters/);
    expect(problems.join('\n')).not.toContain(SECRET);
  });
});

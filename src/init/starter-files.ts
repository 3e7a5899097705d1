/** What `kafka-auth-proxy init` asks (or takes from flags). */
export interface InitAnswers {
  brokers: string[];
  advertisedHost: string;
  /** The authenticated listener's bootstrap port; its brokers follow from port + 8 (base). */
  port: number;
  mechanisms: ('OAUTHBEARER' | 'AWS_MSK_IAM')[];
  mode: 'enforce' | 'audit';
  jwksUrl: string;
  issuer: string;
  audience: string;
  awsRegion: string;
  /** A plaintext listener beside the authenticated one, recording who uses what. */
  migration: boolean;
  migrationPort: number;
  adminPort: number;
}

export const INIT_DEFAULTS: InitAnswers = {
  brokers: ['127.0.0.1:9092'],
  advertisedHost: 'localhost',
  port: 9092,
  mechanisms: ['OAUTHBEARER'],
  mode: 'enforce',
  // The development issuer's addresses (`kafka-auth-proxy dev-issuer`), so the starter runs as is.
  jwksUrl: 'http://127.0.0.1:8080/jwks.json',
  issuer: 'http://127.0.0.1:8080',
  audience: 'kafka',
  awsRegion: 'us-east-1',
  migration: false,
  migrationPort: 19092,
  adminPort: 9464,
};

/** Broker node N of a listener on `port` is served on port + 8 + N: room for the bootstrap port below. */
export function brokerBase(port: number): number {
  return port + 8;
}

export interface StarterFiles {
  'proxy.yaml': string;
  'policy.yaml': string;
  'aws-credentials.yaml'?: string;
}

const q = (s: string) => JSON.stringify(s);
/** A line of YAML with its comment in the column the others use. */
const c = (code: string, comment: string) => `${code.padEnd(39)} # ${comment}`;

export function starterFiles(a: InitAnswers): StarterFiles {
  const oauth = a.mechanisms.includes('OAUTHBEARER');
  const aws = a.mechanisms.includes('AWS_MSK_IAM');
  const lines = [
    '# kafka-auth-proxy config written by `kafka-auth-proxy init`. Check it with',
    '# `kafka-auth-proxy check --config proxy.yaml`; every key: docs/configuration.md.',
    'upstream:',
    c(`  bootstrapServers: [${a.brokers.map(q).join(', ')}]`, 'the plaintext brokers, tried in order'),
    'listeners:',
    '  - name: sasl',
    c(`    port: ${a.port}`, 'clients bootstrap here'),
    c(`    advertisedHost: ${q(a.advertisedHost)}`, 'the name clients reach the proxy by'),
    c(`    brokerPorts: { base: ${brokerBase(a.port)} }`, `broker node N is served on ${brokerBase(a.port)} + N`),
    `    authentication: [${a.mechanisms.join(', ')}]`,
    c(`    mode: ${a.mode}`, 'enforce: denied requests are refused; audit: only logged'),
  ];
  if (a.migration) {
    lines.push(
      '  # Teams not yet moved keep connecting here without credentials while the proxy records',
      '  # what they use (docs/migration.md); close it once `migration status` shows nobody left.',
      '  - name: plaintext',
      `    port: ${a.migrationPort}`,
      `    advertisedHost: ${q(a.advertisedHost)}`,
      `    brokerPorts: { base: ${brokerBase(a.migrationPort)} }`,
      '    authentication: none',
      '    mode: audit',
    );
  }
  if (oauth) {
    lines.push(
      c('oauthbearer:', 'docs/authentication.md, docs/identity-providers.md'),
      `  jwksUrl: ${q(a.jwksUrl)}`,
      c(`  issuer: ${q(a.issuer)}`, "a token's iss must equal this"),
      c(`  audience: [${q(a.audience)}]`, "a token's aud must contain one of these"),
      c('  principalClaim: sub', 'the claim naming the principal in policy bindings'),
      c('  rolesClaim: roles', 'the claim listing the roles the policy grants'),
    );
  }
  if (aws) {
    lines.push(
      c('awsMskIam:', 'docs/authentication.md, "AWS_MSK_IAM"'),
      `  region: ${q(a.awsRegion)}`,
      c('  credentialsFile: aws-credentials.yaml', 'the access keys the proxy checks signatures against'),
    );
  }
  lines.push('authorization:', c('  policyFile: policy.yaml', 'who may do what (docs/authorization.md)'));
  if (a.migration) {
    lines.push(c('accessRecording:', 'who uses what on the plaintext listener'), '  directory: recording');
  }
  lines.push(
    c('admin:', 'metrics at /metrics, probes at /healthz and /readyz (docs/operations.md)'),
    '  bind: 127.0.0.1',
    `  port: ${a.adminPort}`,
    '',
  );
  const files: StarterFiles = { 'proxy.yaml': lines.join('\n'), 'policy.yaml': starterPolicy(a) };
  if (aws) files['aws-credentials.yaml'] = starterCredentials();
  return files;
}

function starterPolicy(a: InitAnswers): string {
  return [
    '# Who may do what (docs/authorization.md). Nothing is allowed that no role grants: bind each',
    '# principal to the roles it needs, or give the roles in its token or access key.',
    ...(a.migration ? ['# `kafka-auth-proxy policy suggest` writes roles from what the plaintext listener recorded.'] : []),
    'roles:',
    '  example-writer:',
    '    - { topics: ["example-*"], operations: [write] }',
    '  example-reader:',
    '    - { topics: ["example-*"], operations: [read] }',
    '    - { groups: ["example-*"], operations: [read] }',
    '# A principal (the token\'s principal claim) and its roles, e.g. "svc-orders": [example-writer]',
    'bindings: {}',
    '',
  ].join('\n');
}

function starterCredentials(): string {
  return [
    '# The access keys AWS_MSK_IAM clients sign with (docs/authentication.md, "AWS_MSK_IAM").',
    '# Keep this file readable by the proxy only. One entry per access key id:',
    '#   AKIAIOSFODNN7EXAMPLE:',
    '#     secretAccessKey: <at least 16 characters>',
    c('#     principal: User:alice', 'who the client is, for the policy'),
    c('#     roles: [example-writer]', 'optional'),
    'accessKeys: {}',
    '',
  ].join('\n');
}

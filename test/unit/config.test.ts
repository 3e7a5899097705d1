import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { recordsAccess } from '../../src/config/schema.js';
import { loopbackServer, makeCa, writePem } from '../support/certificates.js';

const dir = mkdtempSync(join(tmpdir(), 'proxy-config-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const VALID = `
upstream:
  bootstrapServers: ["127.0.0.1:9092"]
listeners:
  - name: plain
    bind: 127.0.0.1
    port: 19092
    advertisedHost: localhost
    brokerPorts: { base: 19100 }
    authentication: none
authorization:
  policyFile: ./policy.yaml
`;

function problemsOf(path: string): string[] {
  try {
    loadConfig(path);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('config loading', () => {
  it('accepts the documented shape, fills defaults, and resolves files relative to the config', () => {
    const config = loadConfig(file('ok.yaml', VALID));
    expect(config.listeners[0]).toMatchObject({ mode: 'enforce', brokerPorts: { base: 19100 } });
    expect(config.limits.maxRequestBytes).toBe(100 * 1024 * 1024);
    expect(config.authorization?.policyFile).toBe(join(dir, 'policy.yaml'));
  });

  it('asks for an admin token file when the admin endpoint listens beyond loopback, and resolves it', () => {
    expect(problemsOf(file('admin-open.yaml', `${VALID}admin: { bind: 0.0.0.0, port: 9464 }\n`))).toEqual([
      'admin.tokenFile: needed when admin.bind is not a loopback address: the admin endpoint can switch enforcement off',
    ]);
    for (const bind of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(problemsOf(file('admin-local.yaml', `${VALID}admin: { bind: "${bind}", port: 9464 }\n`))).toEqual([]);
    const config = loadConfig(file('admin-token.yaml', `${VALID}admin: { bind: 0.0.0.0, port: 9464, tokenFile: secrets/admin-token }\n`));
    expect(config.admin?.tokenFile).toBe(join(dir, 'secrets/admin-token'));
  });

  it('records access on unauthenticated and audit listeners by default, into a directory relative to the config', () => {
    const config = loadConfig(file('recording.yaml', `${VALID}accessRecording: { directory: recording }\n`));
    expect(config.accessRecording).toEqual({ directory: join(dir, 'recording'), intervalSeconds: 60, maxIdentities: 10_000, maxEntriesPerIdentity: 100 });
    expect(recordsAccess(config.listeners[0])).toBe(true);
    expect(recordsAccess({ authentication: ['OAUTHBEARER'], mode: 'enforce', recordAccess: undefined })).toBe(false);
    expect(recordsAccess({ authentication: ['OAUTHBEARER'], mode: 'audit', recordAccess: undefined })).toBe(true);
    expect(recordsAccess({ authentication: 'none', mode: 'enforce', recordAccess: false })).toBe(false);
  });

  it('checks principal mode overrides: a name or a prefix ending in *, enforce or audit, on an authenticated listener with a policy', () => {
    const overriding = (listenerExtra: string, top = 'authorization: { policyFile: ./policy.yaml }', authentication = '[AWS_MSK_IAM]') =>
      problemsOf(
        file(
          'overrides.yaml',
          `
upstream: { bootstrapServers: ["h:1"] }
awsMskIam: { region: us-east-1, credentialsFile: ./aws.yaml }
${top}
listeners:
  - { name: secure, port: 19092, advertisedHost: h, brokerPorts: { base: 19200 }, authentication: ${authentication}, ${listenerExtra} }
`,
        ),
      );
    expect(overriding('modeOverrides: { "User:team-b*": audit, "User:batch": enforce, "*": audit }')).toEqual([]);
    expect(overriding('modeOverrides: { "User:*-b": audit }')).toEqual(['listeners[0].modeOverrides.User:*-b: a principal pattern is a name or a prefix ending in *; * may only come last']);
    expect(overriding('modeOverrides: { "User:a": allow-all }')).toEqual([expect.stringMatching(/^listeners\[0\]\.modeOverrides\.User:a: .*"enforce".*"audit"/)]);
    expect(overriding('modeOverrides: { "User:a": audit }', '')).toEqual(['listeners[0].modeOverrides: mode overrides need an authorization section: without a policy there is nothing to enforce or audit']);
    expect(overriding('modeOverrides: { "User:a": audit }', undefined, 'none')).toEqual([
      'listeners[0].modeOverrides: every client of a listener without authentication is ANONYMOUS: set the listener mode instead',
    ]);
  });

  it('reads a roles source: defaults, files relative to the config, and its problems with their paths', () => {
    const config = loadConfig(file('roles.yaml', `${VALID}rolesSource: { url: "https://iam.internal/v1/roles", tokenFile: secrets/roles-token, tls: { caFile: ca.pem, certFile: c.pem, keyFile: c.key }, snapshot: { file: roles-snapshot.json } }\n`));
    expect(config.rolesSource).toEqual({
      url: 'https://iam.internal/v1/roles',
      tokenFile: join(dir, 'secrets/roles-token'),
      tls: { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'c.pem'), keyFile: join(dir, 'c.key') },
      timeoutMs: 2000,
      ttlSeconds: 300,
      maxStaleSeconds: 86_400,
      maxConcurrentRequests: 16,
      maxPrincipals: 100_000,
      breaker: { failurePercentage: 50, minimumRequests: 10, windowSeconds: 10, openSeconds: 30 },
      snapshot: { file: join(dir, 'roles-snapshot.json'), intervalSeconds: 60 },
    });
    expect(config.listeners[0].rolesOffline).toBe('last-known');
    const problems = (roles: string, extra = VALID) => problemsOf(file('roles-bad.yaml', `${extra}rolesSource: ${roles}\n`));
    expect(problems('{ url: "ftp://iam.internal/roles" }')).toEqual(['rolesSource.url: must be an http:// or https:// URL']);
    expect(problems('{ url: "https://iam.internal/roles", tls: { certFile: c.pem } }')).toEqual(['rolesSource.tls: certFile and keyFile go together (mTLS)']);
    expect(problems('{ url: "http://iam.internal/roles", tls: { caFile: ca.pem } }')).toEqual(['rolesSource.tls: tls needs an https:// url']);
    expect(problems('{ url: "http://iam.internal/roles" }', VALID.replace(/authorization:\n  policyFile: \.\/policy\.yaml\n/, ''))).toEqual([
      'rolesSource: a roles source needs an authorization section: roles mean something only to a policy',
    ]);
  });

  it('accepts JSON too', () => {
    const config = loadConfig(
      file('ok.json', JSON.stringify({ upstream: { bootstrapServers: ['h:1'] }, listeners: [{ name: 'a', port: 1, advertisedHost: 'h', brokerPorts: { base: 100 }, authentication: 'none' }] })),
    );
    expect(config.listeners[0].bind).toBe('0.0.0.0');
  });

  it('reports every problem with its path', () => {
    const problems = problemsOf(
      file(
        'bad.yaml',
        `
upstream:
  bootstrapServers: ["no-port"]
listeners:
  - name: secure
    port: 70000
    advertisedHost: localhost
    brokerPorts: { base: 19100 }
    authentication: [OAUTHBEARER, KERBEROS]
    mode: sometimes
unknownSection: 1
`,
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^upstream\.bootstrapServers\[0\]: expected "host:port"/),
        expect.stringMatching(/^listeners\[0\]\.port: /),
        expect.stringMatching(/^listeners\[0\]\.authentication/),
        expect.stringMatching(/^listeners\[0\]\.mode: /),
        expect.stringMatching(/unknownSection/),
      ]),
    );
  });

  it('refuses two listeners on one port and a mechanism without its settings', () => {
    const problems = problemsOf(
      file(
        'clash.yaml',
        `
upstream: { bootstrapServers: ["h:1"] }
listeners:
  - { name: a, port: 19092, advertisedHost: h, brokerPorts: { map: { "1": 19093 } }, authentication: none }
  - { name: b, port: 19093, advertisedHost: h, brokerPorts: { base: 19200 }, authentication: [OAUTHBEARER] }
`,
      ),
    );
    expect(problems).toEqual(['listeners[1].authentication: OAUTHBEARER needs an oauthbearer section (JWTs) or an awsMskIam section (MSK IAM signer tokens)']);
    const clash = problemsOf(
      file('clash2.yaml', `
upstream: { bootstrapServers: ["h:1"] }
listeners:
  - { name: a, port: 19092, advertisedHost: h, brokerPorts: { map: { "1": 19093 } }, authentication: none }
  - { name: b, port: 19093, advertisedHost: h, brokerPorts: { base: 19200 }, authentication: none }
`),
    );
    expect(clash).toEqual(['listeners[1].port: port 19093 is already used by listener "a" broker 1']);
  });

  it('checks TLS listener settings: MTLS needs required client certificates and a CA, SNI needs TLS, mapping rules must parse', () => {
    const problems = problemsOf(
      file(
        'tls.yaml',
        `
upstream: { bootstrapServers: ["h:1"] }
listeners:
  - { name: a, port: 19092, advertisedHost: h, brokerPorts: { base: 19100 }, authentication: [MTLS, OAUTHBEARER], tls: { certFile: c, keyFile: k } }
  - { name: b, port: 19093, sni: { bootstrapHost: k.test, brokerHostPattern: "b-{nodeId}.test" }, authentication: none }
  - { name: c, port: 19094, advertisedHost: h, brokerPorts: { base: 19200 }, authentication: [MTLS], tls: { certFile: c, keyFile: k, caFile: ca, clientAuth: required, principalMappingRules: ["RULE:^CN=(.*$/$1/"] } }
oauthbearer: { jwksUrl: "http://x/jwks", issuer: x, audience: [kafka] }
`,
      ),
    );
    expect(problems).toEqual([
      'listeners[0].authentication: MTLS stands alone; for SASL with client certificates set tls.clientAuth: required and list the SASL mechanisms (the principal then comes from SASL, as on Kafka)',
      'listeners[0].tls.clientAuth: MTLS needs tls.clientAuth: required',
      'listeners[1].sni: SNI routing needs a tls section: the server name travels in the TLS handshake',
      expect.stringMatching(/^listeners\[2\]\.tls\.principalMappingRules: invalid principal mapping rule "RULE:\^CN=\(\.\*\$\/\$1\/"/),
    ]);
  });

  it('gives every listener connection limits with their defaults, and checks them with their path', () => {
    const config = loadConfig(file('limits.yaml', VALID));
    expect(config.listeners[0].limits).toEqual({
      maxConnections: 10_000,
      maxUnauthenticatedConnections: 1000,
      maxUnauthenticatedConnectionsPerIp: 50,
      maxConnectionsPerIp: 1000,
      maxNewConnectionsPerSecondPerIp: 100,
      authenticationTimeoutMs: 10_000,
      failedAuthenticationDelayMs: 100,
    });
    expect(config.limits.maxUnauthenticatedBytes).toBe(64 * 1024 * 1024);
    expect(config.limits.maxBufferedRequestBytes).toBe(1024 * 1024 * 1024);
    const problems = problemsOf(
      file('bad-limits.yaml', VALID.replace('authentication: none', 'authentication: none\n    limits: { maxConnections: 0, authenticationTimeoutMs: 1000, failedAuthenticationDelayMs: 1000 }')),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^listeners\[0\]\.limits\.maxConnections: /),
      expect.stringMatching(/^listeners\[0\]\.limits\.failedAuthenticationDelayMs: must be below authenticationTimeoutMs/),
    ]);
  });

  it('names the file for YAML syntax errors and unreadable files', () => {
    expect(problemsOf(file('syntax.yaml', 'upstream: [unclosed\n'))[0]).toMatch(/^: /);
    expect(problemsOf(join(dir, 'missing.yaml'))).toEqual([': cannot read: ENOENT']);
  });
});

describe('kafka-auth-proxy check', () => {
  const run = promisify(execFile);
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: process.cwd() });

  it('exits 0 and says OK for a valid config and policy', async () => {
    file('policy.yaml', 'roles:\n  writer:\n    - { topics: ["orders"], operations: [write] }\nbindings:\n  svc: [writer]\n');
    const { stdout } = await cli(['check', '--config', file('cli-ok.yaml', VALID)]);
    expect(stdout).toMatch(/OK \(1 listener\)/);
  });

  it('exits 1 and prints each policy problem with file and path', async () => {
    const subdir = mkdtempSync(join(dir, 'bad-policy-'));
    writeFileSync(join(subdir, 'policy.yaml'), 'roles:\n  writer:\n    - { topics: ["orders"], operations: [wirte] }\nbindings:\n  svc: [writr]\n');
    const config = join(subdir, 'proxy.yaml');
    writeFileSync(config, VALID);
    const err = await cli(['check', '--config', config]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    const stderr = (err as { stderr: string }).stderr;
    expect(stderr).toContain(`${join(subdir, 'policy.yaml')}: roles.writer[0].operations[0]:`);
    expect(stderr).toContain('bindings.svc[0]: unknown role "writr"');
  });

  it('inspects listener and upstream TLS files: problems fail the check, near expiry warns', async () => {
    const ca = makeCa('check CA');
    const server = loopbackServer(ca, [], { notAfter: new Date(Date.now() + 5 * 86_400_000) });
    const tlsDir = mkdtempSync(join(dir, 'tls-'));
    writeFileSync(join(tlsDir, 'policy.yaml'), 'roles: {}\nbindings: {}\n');
    const [cert, key, caFile] = [writePem('cert.pem', server.cert), writePem('key.pem', server.key), writePem('ca.pem', ca.cert)];
    const withTls = (keyFile: string) =>
      VALID.replace('    authentication: none', `    tls: { certFile: ${cert}, keyFile: ${keyFile} }\n    authentication: none`).replace(
        'upstream:\n',
        `upstream:\n  tls: { caFile: ${caFile} }\n`,
      );
    writeFileSync(join(tlsDir, 'ok.yaml'), withTls(key));
    const ok = await cli(['check', '--config', join(tlsDir, 'ok.yaml')]);
    expect(ok.stdout).toMatch(/OK \(1 listener\)/);
    expect(ok.stderr).toMatch(/^warning: .*ok\.yaml: listeners\[0\]\.tls: .*cert\.pem: the certificate expires on .* \(in 4 days\)$/m);
    writeFileSync(join(tlsDir, 'bad.yaml'), withTls(writePem('other-key.pem', makeCa('unrelated').key)));
    const err = await cli(['check', '--config', join(tlsDir, 'bad.yaml')]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/bad\.yaml: listeners\[0\]\.tls: .*other-key\.pem: the private key does not belong to the first certificate of .*cert\.pem/);
   }, 30_000);

  it('exits 1 and prints each problem with file and path', async () => {
    const path = file('cli-bad.yaml', VALID.replace('port: 19092', 'port: -5'));
    const err = await cli(['check', '--config', path]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain(`${path}: listeners[0].port:`);
  });
});

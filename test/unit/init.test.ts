import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/check-config.js';
import { init, InitError } from '../../src/init/init-cli.js';

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'kap-init-'));
}

async function run(argv: string[], answers?: string[]): Promise<{ out: string; questions: string[] }> {
  let out = '';
  const questions: string[] = [];
  const queue = [...(answers ?? [])];
  await init(argv, {
    out: (text) => (out += text),
    ...(answers ? { ask: async (q: string) => (questions.push(q), queue.shift() ?? '') } : {}),
  });
  return { out, questions };
}

function yamlOf(dir: string, name: string): Record<string, any> {
  return parse(readFileSync(join(dir, name), 'utf8')) as Record<string, any>;
}

describe('kafka-auth-proxy init', () => {
  it('writes a config and policy that pass the check, with the documented defaults', async () => {
    const dir = freshDir();
    const { out } = await run(['--dir', dir]);
    expect(checkConfigFile(join(dir, 'proxy.yaml')).problems).toEqual([]);
    const config = yamlOf(dir, 'proxy.yaml');
    expect(config.listeners).toEqual([
      expect.objectContaining({ name: 'sasl', port: 9092, advertisedHost: 'localhost', brokerPorts: { base: 9100 }, authentication: ['OAUTHBEARER'], mode: 'enforce' }),
    ]);
    expect(config.authorization).toEqual({ policyFile: 'policy.yaml' });
    expect(config.awsMskIam).toBeUndefined();
    expect(existsSync(join(dir, 'aws-credentials.yaml'))).toBe(false);
    expect(yamlOf(dir, 'policy.yaml').bindings).toEqual({});
    expect(out).toContain(`kafka-auth-proxy check --config ${join(dir, 'proxy.yaml')}`);
  });

  it('adds AWS_MSK_IAM with an owner-only credentials file and a recording plaintext listener', async () => {
    const dir = freshDir();
    await run(['--dir', dir, '--auth', 'both', '--migration', '--brokers', 'kafka-1:9092, kafka-2:9092', '--advertised-host', 'proxy.internal', '--mode', 'audit']);
    expect(checkConfigFile(join(dir, 'proxy.yaml')).problems).toEqual([]);
    const config = yamlOf(dir, 'proxy.yaml');
    expect(config.upstream.bootstrapServers).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(config.listeners.map((l: any) => [l.name, l.port, l.brokerPorts.base, l.authentication, l.mode, l.advertisedHost])).toEqual([
      ['sasl', 9092, 9100, ['OAUTHBEARER', 'AWS_MSK_IAM'], 'audit', 'proxy.internal'],
      ['plaintext', 19092, 19100, 'none', 'audit', 'proxy.internal'],
    ]);
    expect(config.accessRecording).toEqual({ directory: 'recording' });
    expect(config.awsMskIam.region).toBe('us-east-1');
    expect(statSync(join(dir, 'aws-credentials.yaml')).mode & 0o777).toBe(0o600);
  });

  it('asks on a terminal, takes the defaults for blank answers, and does not ask what the flags said', async () => {
    const dir = freshDir();
    const { questions } = await run(['--dir', dir, '--mode', 'enforce'], ['b1:9092,b2:9092', '', 'aws-msk-iam', 'eu-west-1', 'y']);
    expect(questions.map((q) => q.split(' [')[0])).toEqual([
      'Kafka brokers (host:port, comma-separated)',
      'Name clients reach the proxy by',
      'Authentication: oauthbearer, aws-msk-iam or both',
      'AWS region clients sign for',
      'Add a plaintext listener for teams not yet migrated, recording what they use?',
    ]);
    const config = yamlOf(dir, 'proxy.yaml');
    expect(config.upstream.bootstrapServers).toEqual(['b1:9092', 'b2:9092']);
    expect(config.listeners[0].advertisedHost).toBe('localhost');
    expect(config.oauthbearer).toBeUndefined();
    expect(config.awsMskIam.region).toBe('eu-west-1');
    expect(config.listeners).toHaveLength(2);
    expect(checkConfigFile(join(dir, 'proxy.yaml')).problems).toEqual([]);
  });

  it('asks nothing with --yes', async () => {
    const { questions } = await run(['--dir', freshDir(), '--yes'], ['should not be read']);
    expect(questions).toEqual([]);
  });

  it('never overwrites a file without --force, and writes nothing then', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'policy.yaml'), 'mine\n');
    await expect(run(['--dir', dir])).rejects.toThrow(/policy\.yaml already exists: nothing written \(--force overwrites\)/);
    expect(readFileSync(join(dir, 'policy.yaml'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(dir, 'proxy.yaml'))).toBe(false);
    await run(['--dir', dir, '--force']);
    expect(checkConfigFile(join(dir, 'proxy.yaml')).problems).toEqual([]);
  });

  it.each([
    [['--port', '70000'], /--port must be a port \(1-65535\), not "70000"/],
    [['--auth', 'kerberos'], /--auth is one of oauthbearer, aws-msk-iam, both, not "kerberos"/],
    [['--brokers', 'kafka-1'], /--brokers takes host:port\[,host:port\.\.\.\], not "kafka-1"/],
    [['--mode', 'allow-all'], /--mode is enforce or audit/],
    [['--jwks-url', 'idp.example.com/keys'], /the JWKS URL must start with http:\/\/, https:\/\/ or file:\/\//],
    [['--colour'], /Unknown option '--colour'/],
  ])('refuses %j with a clear reason and writes nothing', async (flags, reason) => {
    const dir = freshDir();
    const error = await run(['--dir', dir, ...flags]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InitError);
    expect((error as Error).message).toMatch(reason);
    expect(existsSync(join(dir, 'proxy.yaml'))).toBe(false);
  });

  it('runs from the command line without a terminal, and exits 2 on bad input', { timeout: 60_000 }, () => {
    const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
    const dir = freshDir();
    const out = execFileSync(process.execPath, ['--import', 'tsx', cli, 'init', '--dir', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    expect(out).toContain(`wrote ${join(dir, 'proxy.yaml')}`);
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', cli, 'init', '--dir', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/^init: .*already exist/);
  });
});

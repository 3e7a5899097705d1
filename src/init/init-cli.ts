import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { checkConfigFile } from '../config/check-config.js';
import { formatProblem } from '../config/load.js';
import { INIT_DEFAULTS, type InitAnswers, starterFiles } from './starter-files.js';
import { INIT_USAGE } from './init-usage.js';


/** Where init talks: the terminal, or a test's buffers. */
export interface InitIo {
  out: (text: string) => void;
  /** Asks one question; undefined when there is nobody to ask. */
  ask?: (question: string) => Promise<string>;
}

export class InitError extends Error {}

const AUTH_CHOICES: Record<string, InitAnswers['mechanisms']> = {
  oauthbearer: ['OAUTHBEARER'],
  'aws-msk-iam': ['AWS_MSK_IAM'],
  both: ['OAUTHBEARER', 'AWS_MSK_IAM'],
};

function portOf(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InitError(`--${name} must be a port (1-65535), not "${text}"`);
  return n;
}

function brokersOf(text: string): string[] {
  const brokers = text.split(',').map((b) => b.trim()).filter(Boolean);
  const bad = brokers.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b));
  if (brokers.length === 0 || bad !== undefined) throw new InitError(`--brokers takes host:port[,host:port...], not "${bad ?? text}"`);
  return brokers;
}

function authOf(text: string): InitAnswers['mechanisms'] {
  const mechanisms = AUTH_CHOICES[text.toLowerCase()];
  if (!mechanisms) throw new InitError(`--auth is one of ${Object.keys(AUTH_CHOICES).join(', ')}, not "${text}"`);
  return mechanisms;
}

function modeOf(text: string): InitAnswers['mode'] {
  if (text !== 'enforce' && text !== 'audit') throw new InitError(`--mode is enforce or audit, not "${text}"`);
  return text;
}

function yesNo(text: string): boolean {
  return /^y(es)?$/i.test(text.trim());
}

/** Runs `kafka-auth-proxy init`; throws InitError for bad input, with the reason. */
export async function init(argv: string[], io: InitIo): Promise<void> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        brokers: { type: 'string' },
        auth: { type: 'string' },
        'jwks-url': { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        'aws-region': { type: 'string' },
        mode: { type: 'string' },
        migration: { type: 'boolean' },
        'advertised-host': { type: 'string' },
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        force: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    throw new InitError((e as Error).message);
  }
  const ask = values.yes ? undefined : io.ask;
  // A flag wins; else the question, answered or left at its default; else the default.
  const answer = async <T>(flag: string | undefined, question: string, shown: string, read: (text: string) => T, fallback: T): Promise<T> => {
    if (flag !== undefined) return read(flag);
    if (!ask) return fallback;
    const text = (await ask(`${question} [${shown}]: `)).trim();
    return text === '' ? fallback : read(text);
  };
  const d = INIT_DEFAULTS;
  const brokers = await answer(values.brokers, 'Kafka brokers (host:port, comma-separated)', d.brokers.join(','), brokersOf, d.brokers);
  const advertisedHost = await answer(values['advertised-host'], 'Name clients reach the proxy by', d.advertisedHost, (t) => t, d.advertisedHost);
  const mechanisms = await answer(values.auth, 'Authentication: oauthbearer, aws-msk-iam or both', 'oauthbearer', authOf, d.mechanisms);
  const oauth = mechanisms.includes('OAUTHBEARER');
  const jwksUrl = oauth ? await answer(values['jwks-url'], 'JWKS URL of your identity provider', d.jwksUrl, (t) => t, d.jwksUrl) : d.jwksUrl;
  if (oauth && !/^(https?|file):\/\//.test(jwksUrl)) throw new InitError(`the JWKS URL must start with http://, https:// or file://, not "${jwksUrl}"`);
  const issuer = oauth ? await answer(values.issuer, 'Token issuer (the iss claim)', d.issuer, (t) => t, d.issuer) : d.issuer;
  const audience = oauth ? await answer(values.audience, 'Token audience (the aud claim)', d.audience, (t) => t, d.audience) : d.audience;
  const awsRegion = mechanisms.includes('AWS_MSK_IAM') ? await answer(values['aws-region'], 'AWS region clients sign for', d.awsRegion, (t) => t, d.awsRegion) : d.awsRegion;
  const mode = await answer(values.mode, 'Mode of the authenticated listener: enforce or audit', d.mode, modeOf, d.mode);
  const migration = values.migration ?? (ask ? yesNo(await ask('Add a plaintext listener for teams not yet migrated, recording what they use? [y/N]: ')) : d.migration);
  const answers: InitAnswers = {
    ...d,
    brokers,
    advertisedHost,
    mechanisms,
    jwksUrl,
    issuer,
    audience,
    awsRegion,
    mode,
    migration,
    port: values.port === undefined ? d.port : portOf('port', values.port),
    adminPort: values['admin-port'] === undefined ? d.adminPort : portOf('admin-port', values['admin-port']),
  };
  const dir = resolve(values.dir ?? '.');
  const files = starterFiles(answers);
  const names = Object.keys(files) as (keyof typeof files)[];
  const existing = names.filter((name) => existsSync(join(dir, name)));
  if (existing.length && !values.force) throw new InitError(`${existing.map((n) => join(dir, n)).join(', ')} already exist${existing.length === 1 ? 's' : ''}: nothing written (--force overwrites)`);
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    // The credentials file will hold secrets: readable by its owner only.
    writeFileSync(join(dir, name), files[name]!, { mode: name === 'aws-credentials.yaml' ? 0o600 : 0o644 });
    io.out(`wrote ${join(dir, name)}\n`);
  }
  const configFile = join(dir, 'proxy.yaml');
  const { problems } = checkConfigFile(configFile);
  if (problems.length) throw new InitError(`the written config does not pass the check:\n${problems.map(formatProblem).join('\n')}`);
  io.out(nextSteps(configFile, answers));
}

function nextSteps(configFile: string, a: InitAnswers): string {
  const steps = [
    '',
    'Next:',
    `  edit ${configFile.replace(/proxy\.yaml$/, 'policy.yaml')}: bind your principals to roles (docs/authorization.md)`,
    ...(a.mechanisms.includes('AWS_MSK_IAM') ? ['  add your clients\' access keys to aws-credentials.yaml'] : []),
    ...(a.mechanisms.includes('OAUTHBEARER') && a.jwksUrl === INIT_DEFAULTS.jwksUrl ? ['  the JWKS URL is the development issuer\'s: try it with `kafka-auth-proxy dev-issuer`, then set your identity provider\'s (docs/identity-providers.md)'] : []),
    `  kafka-auth-proxy check --config ${configFile}`,
    `  kafka-auth-proxy --config ${configFile}   and point clients at ${a.advertisedHost}:${a.port}${a.migration ? ` (not yet migrated: ${a.advertisedHost}:${a.migrationPort})` : ''}`,
    '',
  ];
  return steps.join('\n');
}

/** The command line: questions on a terminal, none otherwise. */
export async function main(argv: string[]): Promise<void> {
  const terminal = process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
  try {
    await init(argv, { out: (text) => process.stdout.write(text), ...(terminal ? { ask: (question: string) => terminal.question(question) } : {}) });
  } catch (e) {
    if (!(e instanceof InitError)) throw e;
    process.stderr.write(`init: ${e.message}\nusage:\n${INIT_USAGE}\n`);
    process.exitCode = 2;
  } finally {
    terminal?.close();
  }
}

/**
 * kafka-auth-proxy dev-issuer [options]: runs the DEVELOPMENT-ONLY token issuer until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../observe/logger.js';
import { type DevClient, type DevIssuerOptions, startDevIssuer } from './issuer.js';

const USAGE = `usage: kafka-auth-proxy dev-issuer [options]     DEVELOPMENT ONLY: a local OAuth2 token issuer
  --port N                  port to listen on (default 8080; 0 picks a free one)
  --host ADDRESS            address to bind (default 127.0.0.1)
  --issuer URL              iss of the tokens (default: the issuer's own URL)
  --audience NAME           aud of the tokens (default kafka)
  --alg RS256|ES256         signing algorithm (default RS256)
  --lifetime SECONDS        token lifetime (default 3600)
  --roles-claim PATH        claim (dotted path) that carries the roles (default roles)
  --client ID:SECRET[:SUBJECT[:ROLE,ROLE...]]
                            a client of POST /token (repeatable; SUBJECT defaults to ID)
  --log-level LEVEL         trace | debug | info | warn | error (default info)`;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

/** Runs the issuer; resolves once it listens. Usage errors go to stderr with exit code 2. */
export async function main(argv: string[]): Promise<void> {
  let options: DevIssuerOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const issuer = await startDevIssuer(options);
  const stop = () => void issuer.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The issuer's command line; exported so docker-compose.yml's issuer command can be checked. */
export function parseOptions(argv: string[]): DevIssuerOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      issuer: { type: 'string' },
      audience: { type: 'string', default: 'kafka' },
      alg: { type: 'string', default: 'RS256' },
      lifetime: { type: 'string', default: '3600' },
      'roles-claim': { type: 'string', default: 'roles' },
      client: { type: 'string', multiple: true, default: [] },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const { alg } = values;
  if (alg !== 'RS256' && alg !== 'ES256') throw new Error(`--alg must be RS256 or ES256, not ${alg}`);
  if (!LEVELS.includes(values['log-level'])) throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`);
  return {
    port: integer('--port', values.port),
    host: values.host,
    issuer: values.issuer,
    audience: values.audience,
    alg,
    tokenLifetimeSeconds: integer('--lifetime', values.lifetime),
    rolesClaim: values['roles-claim'],
    clients: Object.fromEntries(values.client.map(parseClient)),
    log: createLogger(values['log-level']),
  };
}

function integer(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`${flag} must be a non-negative integer, not ${text}`);
  return Number(text);
}

function parseClient(spec: string): [string, DevClient] {
  const [id, secret, subject, roles] = spec.split(':');
  if (!id || !secret || spec.split(':').length > 4) throw new Error('--client must be ID:SECRET[:SUBJECT[:ROLE,ROLE...]] (the secret cannot contain ":")');
  return [id, { secret, subject: subject || id, roles: roles ? roles.split(',').filter((r) => r !== '') : [] }];
}

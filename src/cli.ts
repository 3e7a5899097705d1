#!/usr/bin/env node
/**
 * kafka-auth-proxy --config proxy.yaml          run the proxy
 * kafka-auth-proxy check --config proxy.yaml    validate the config, print every problem, exit 1 if any
 * kafka-auth-proxy init [...]                   write a starter config and policy
 * kafka-auth-proxy admin status|mode|reload      operate a running proxy through its admin endpoint
 * kafka-auth-proxy access report | policy suggest|check | migration status   migration toolkit
 * kafka-auth-proxy dev-issuer [...]             DEVELOPMENT ONLY: a local OAuth token issuer
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { ADMIN_USAGE, adminCommand, adminTarget } from './admin-cli.js';
import { ConfigError, formatProblem, loadConfig } from './config/load.js';
import { INIT_USAGE } from './init/init-usage.js';
import { MIGRATION_USAGE } from './migration/migration-usage.js';
import { createLogger } from './observe/logger.js';

// Each process loads only what its role runs (imported where needed): the supervisor holds no
// proxy code, which keeps its resident memory down, and the workers no supervisor code.

const USAGE = `usage:
  kafka-auth-proxy --config proxy.yaml          run the proxy
  kafka-auth-proxy check --config proxy.yaml    validate the configuration and exit
${INIT_USAGE}
${ADMIN_USAGE}
${MIGRATION_USAGE}
  kafka-auth-proxy dev-issuer [--port 8080] [--client ID:SECRET[:SUBJECT[:ROLE,...]]]
                                                DEVELOPMENT ONLY: local token issuer (--help)`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function readConfig(file: string) {
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.problems.map(formatProblem).join('\n'));
    throw e;
  }
}

async function run(file: string): Promise<void> {
  if (cluster.isWorker) return (await import('./workers/worker.js')).runWorker();
  const config = readConfig(file);
  const log = createLogger(config.logging.level);
  if (!process.execArgv.some((flag) => flag.startsWith('--initial-old-space-size'))) {
    // docs/operations.md, "Run": without it V8 runs a full garbage collection every 10-20 MB streamed.
    log.info('started without node --initial-old-space-size=64: streaming fetch responses may cost up to twice the CPU (see docs/operations.md, "Run")');
  }
  const { Supervisor } = await import('./workers/supervisor.js');
  const supervisor = new Supervisor(file, config, log);
  // Handled from the start: by default SIGHUP and SIGUSR2 would end the process.
  let started = false;
  const whenStarted = (signal: string, act: (s: typeof supervisor) => Promise<unknown>, failure: string) => {
    if (!started) {
      log.warn({ signal }, 'still starting; signal ignored');
      return;
    }
    act(supervisor).catch((e: Error) => log.error({ err: e.message }, failure));
  };
  let stopping = false;
  // During start too: the workers already up drain, those still starting are stopped.
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    supervisor.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the config file, the credentials file, the JWKS, the policy file and the TLS certificates');
    whenStarted('SIGHUP', (s) => s.reload(), 'reload failed');
  });
  process.on('SIGUSR2', () => {
    log.info('SIGUSR2: restarting the workers from the code and config on disk');
    whenStarted('SIGUSR2', (s) => s.restart('SIGUSR2'), 'restart failed');
  });
  try {
    await supervisor.start();
    started = true;
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'cannot start');
    process.exit(1);
  }
}

async function main(argv: string[]): Promise<void> {
  // Before parseArgs: the issuer has flags of its own.
  if (argv[0] === 'dev-issuer') return (await import('./dev-issuer/main.js')).main(argv.slice(1));
  if (argv[0] === 'init') return (await import('./init/init-cli.js')).main(argv.slice(1));
  // The migration toolkit reads recordings, not a running proxy: flags of its own too.
  if (argv[0] === 'access' || argv[0] === 'policy' || argv[0] === 'migration') return (await import('./migration/cli.js')).main(argv);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        url: { type: 'string' },
        'token-file': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`, 2);
  }
  const { positionals, values } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals[0] === 'admin') {
    if (!values.config && !values.url) fail(`admin needs --config proxy.yaml or --url\n${USAGE}`, 2);
    try {
      const target = adminTarget(values.config ? readConfig(values.config) : undefined, values.url, values['token-file']);
      process.stdout.write(await adminCommand(target, positionals.slice(1), values.json ?? false));
    } catch (e) {
      fail((e as Error).message);
    }
    return;
  }
  if (!values.config) fail(`--config is required\n${USAGE}`, 2);
  if (positionals.length === 0) return run(values.config);
  if (positionals.length === 1 && positionals[0] === 'check') {
    const { checkConfigFile } = await import('./config/check-config.js');
    const { config, problems, warnings } = checkConfigFile(values.config);
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
    if (problems.length || !config) fail(problems.map(formatProblem).join('\n'));
    process.stdout.write(`${values.config}: OK (${config.listeners.length} listener${config.listeners.length === 1 ? '' : 's'})\n`);
    return;
  }
  fail(`unknown command ${positionals.join(' ')}\n${USAGE}`, 2);
}

await main(process.argv.slice(2));

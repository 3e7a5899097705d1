import { parseArgs } from 'node:util';
import { startKafkaCluster } from './cluster.js';
import { resolveKafka } from './resolve.js';

const USAGE = `usage: npm run kafka -- <command>
  resolve                     download the Kafka jars from Maven Central (once)
  start [--brokers 1|3]       start a local KRaft cluster (default 1 broker); Ctrl-C stops it
        [--data-dir <dir>]    keep node dirs (logs, data) in <dir> instead of a temp dir`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      brokers: { type: 'string', default: '1' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || positionals.length !== 1) return usage(values.help ? 0 : 2);

  if (command === 'resolve') {
    const { version, libDir } = await resolveKafka();
    console.log(`Kafka ${version} jars in ${libDir}`);
  } else if (command === 'start') {
    const brokers = Number(values.brokers);
    if (brokers !== 1 && brokers !== 3) return usage(2);
    await start(brokers, values['data-dir']);
  } else {
    usage(2);
  }
}

async function start(brokers: number, baseDir: string | undefined): Promise<void> {
  const cluster = await startKafkaCluster({ brokers, baseDir, log: (line) => console.log(line) });
  console.log(`\nbootstrap servers: ${cluster.bootstrapServers.join(',')}\n\nnode  address`);
  for (const { nodeId, host, port } of cluster.brokers) console.log(`${String(nodeId).padEnd(6)}${host}:${port}`);
  console.log(`\nlogs and data: ${cluster.dataDir}/node-<id>/\nPress Ctrl-C to stop.`);

  // Registering these makes the harness's own signal hooks stand back and leave shutdown to us.
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('stopping Kafka ...');
  await cluster.stop();
  console.log('stopped');
}

function usage(exitCode: number): void {
  (exitCode === 0 ? console.log : console.error)(USAGE);
  process.exitCode = exitCode;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

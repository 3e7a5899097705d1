import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { LOOPBACK, pickFreePortBase } from '../../scripts/kafka/ports.js';
import { resolveJars } from '../../scripts/kafka/resolve.js';
import { runToEnd, spawnOwned } from '../child-process.js';
import type { PeerProcess } from './peer-process.js';

const POM = fileURLToPath(new URL('kroxylicious.pom.xml', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('KroxyliciousLauncher.java', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const COMPILE_TIMEOUT_MS = 120_000;
/** portIdentifiesNode's default node id range is 0-2: the bootstrap port, then one port per node id. */
const PORTS = [0, 1, 2, 3];

/**
 * Kroxylicious (kroxylicious-runtime from Maven Central, resolved like the Kafka jars), started
 * by the bench's launcher with one virtual cluster in front of `upstream` and no filters: a
 * port for the bootstrap and one per node id (portIdentifiesNode), on loopback. Its JVM runs with
 * the JVM's defaults, as its own start script leaves them.
 */
export async function startKroxylicious(upstream: string, workDir: string, log: (line: string) => void): Promise<PeerProcess> {
  const jars = await resolveJars({ name: 'kroxylicious', title: 'Kroxylicious', pomPath: POM, versionProperty: 'kroxylicious.version' }, log);
  const classes = join(workDir, 'kroxylicious-classes');
  await runToEnd('javac', ['-cp', jars.classpath, '-d', classes, LAUNCHER], COMPILE_TIMEOUT_MS);
  const base = await pickFreePortBase(PORTS);
  const config = join(workDir, 'kroxylicious.yaml');
  await writeFile(
    config,
    stringify({
      virtualClusters: [
        {
          name: 'bench',
          targetCluster: { bootstrapServers: upstream },
          gateways: [{ name: 'plaintext', portIdentifiesNode: { bootstrapAddress: `${LOOPBACK}:${base}` } }],
        },
      ],
    }),
  );
  const child = spawnOwned('java', ['-cp', `${jars.classpath}:${classes}`, 'KroxyliciousLauncher', config]);
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`)));
  let timer: NodeJS.Timeout | undefined;
  const started = await Promise.race([
    new Promise<boolean>((resolve) => createInterface({ input: child.stdout }).on('line', (line) => line === 'kroxylicious started' && resolve(true))),
    exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (!started || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new Error(`Kroxylicious ${jars.version} did not start:\n${output}`);
  }
  log(`peers: Kroxylicious ${jars.version} on ${LOOPBACK}:${base} in front of ${upstream}`);
  return {
    name: 'kroxylicious',
    version: jars.version,
    bootstrap: `${LOOPBACK}:${base}`,
    pid: child.pid,
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

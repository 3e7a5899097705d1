import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK, pickFreePorts } from '../../scripts/kafka/ports.js';
import { runToEnd, spawnOwned } from '../child-process.js';
import type { PeerProcess } from './peer-process.js';

const READY_TIMEOUT_MS = 30_000;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * grepplabs/kafka-proxy from a binary the user built (its Go module is not served by the module
 * registry this machine reaches, so the bench cannot fetch it): `kafka-proxy server` with one
 * bootstrap mapping of the single broker to a loopback port (its advertised address is the
 * same, so clients come back through that port), its HTTP endpoint on another loopback port,
 * warnings only.
 */
export async function startGrepplabs(binary: string, upstream: string, log: (line: string) => void): Promise<PeerProcess> {
  const version = (await runToEnd(binary, ['--version'], 10_000).catch(() => 'unknown version')).trim().split('\n')[0];
  const [port, httpPort] = await pickFreePorts(2);
  const child = spawnOwned(binary, [
    'server',
    '--bootstrap-server-mapping',
    `${upstream},${LOOPBACK}:${port}`,
    '--http-listen-address',
    `${LOOPBACK}:${httpPort}`,
    '--log-level',
    'warning',
  ]);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`)));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && !(await accepts(port))) {
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  if (gone || child.pid === undefined || !(await accepts(port))) {
    child.kill('SIGKILL');
    throw new Error(`grepplabs/kafka-proxy (${binary}) did not start:\n${output}`);
  }
  log(`peers: grepplabs/kafka-proxy ${version} on ${LOOPBACK}:${port} in front of ${upstream}`);
  return {
    name: 'grepplabs',
    version,
    bootstrap: `${LOOPBACK}:${port}`,
    pid: child.pid,
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnOwned } from './child-process.js';

export interface RelayProcess {
  port: number;
  pid: number;
  /** Resolves, saying how, when the process ends. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const RELAY_MAIN = fileURLToPath(new URL('tcp-relay-main.ts', import.meta.url));
const READY_TIMEOUT_MS = 30_000;

/** Starts bench/tcp-relay-main.ts in its own Node process (with `nodeArgs`), relaying to host:port. */
export async function startRelayProcess(host: string, port: number, nodeArgs: string[] = []): Promise<RelayProcess> {
  const child = spawnOwned(process.execPath, [...nodeArgs, '--import', import.meta.resolve('tsx'), RELAY_MAIN, host, String(port)]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`exited with ${signal ?? `code ${code}`}`)));
  let timer: NodeJS.Timeout | undefined;
  const line = await Promise.race([
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    exited.then(() => undefined),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), READY_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  const relayPort = Number(line);
  if (child.pid === undefined || !Number.isInteger(relayPort) || relayPort <= 0) {
    child.kill('SIGKILL');
    throw new Error(`the TCP relay did not start (${RELAY_MAIN}): ${line ?? 'no output'}\n${stderr}`);
  }
  return {
    port: relayPort,
    pid: child.pid,
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { onParentExit } from '../scripts/kafka/exit-hooks.js';

const TAIL_CHARS = 4000;

/**
 * Spawns a child with piped output that is SIGKILLed if the bench exits, fails or is
 * interrupted (Ctrl-C) before the child is done.
 */
export function spawnOwned(command: string, args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(command, args, { stdio: 'pipe' });
  child.stdin.end();
  const unregister = onParentExit(() => child.kill('SIGKILL'));
  child.once('exit', unregister).once('error', unregister);
  return child;
}

/** Runs a command to its end and returns stdout + stderr; rejects with the output's tail on failure or timeout. */
export function runToEnd(command: string, args: string[], timeoutMs: number): Promise<string> {
  const child = spawnOwned(command, args);
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(output);
      const why = signal === 'SIGKILL' ? `was killed after ${timeoutMs} ms` : `exited with ${signal ?? `code ${code}`}`;
      reject(new Error(`${[command, ...args].join(' ')} ${why}; output ends with:\n${output.slice(-TAIL_CHARS)}`));
    });
  });
}

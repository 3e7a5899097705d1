import { spawn } from 'node:child_process';

/** Tracers and samplers start watching a moment after they are spawned: wait this long before the run they measure. */
const ATTACH_MS = 500;

/**
 * A tool that attaches to running processes (strace, perf record) until stopped with SIGINT, as
 * one does at a terminal; stop() resolves with what it wrote to stderr. `flag` names the bench
 * option that needs it, for the error when it is not installed.
 */
export async function startAttachedTool(command: string, args: string[], flag: string): Promise<{ stop(): Promise<string> }> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`${command} could not run (${flag} needs it): ${e.message}`)));
    child.once('exit', () => resolve());
  });
  await Promise.race([new Promise((resolve) => setTimeout(resolve, ATTACH_MS)), exited]);
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return stderr;
    },
  };
}

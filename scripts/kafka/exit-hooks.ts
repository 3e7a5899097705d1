// Synchronous last-resort cleanups (kill brokers, remove temp dirs) for when the
// parent process goes away without calling stop().
const cleanups = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function onParentExit(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

function runCleanups(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Keep going: the remaining children must still be killed.
    }
  }
}

// Listeners are prepended: vitest's own SIGINT/exit handler calls process.exit()
// from inside 'exit', which ends the process before later listeners run.
function install(): void {
  if (installed) return;
  installed = true;
  process.prependListener('exit', runCleanups);
  for (const signal of SIGNALS) {
    const handler = (): void => {
      // Someone else (the CLI, vitest) owns shutdown for this signal; they stop the
      // cluster or exit, and the 'exit' hook above is the backstop.
      if (process.listenerCount(signal) > 1) return;
      runCleanups();
      // Nobody else handles it: restore the default action (terminate) and re-raise.
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.prependListener(signal, handler);
  }
}

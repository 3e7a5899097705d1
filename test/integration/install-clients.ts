import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Global setup, first: installs the clients the integration tests drive (Java libraries, the
 * Python venv, the Go client) when they are missing or out of date, so `npm install && npm test`
 * is enough on a fresh machine. Each script keeps a stamp of what it installed and returns at
 * once when nothing changed; the first run takes minutes and says what it installs.
 */
const SCRIPTS = ['setup-java-libs.sh', 'setup-python.sh', 'setup-go.sh'];

export default function setup(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  for (const script of SCRIPTS) {
    const run = spawnSync('bash', [`scripts/interop/${script}`], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new Error(`scripts/interop/${script} failed (exit ${run.status ?? run.signal}): the interop clients cannot be installed; see its output above`);
  }
}

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from './child-process.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const CLI_PATH = join(REPO_ROOT, 'dist/cli.js');
/**
 * How the docs, `npm start` and the Dockerfile run the proxy: `node <PROXY_NODE_FLAGS> dist/cli.js`.
 * The proxy's heap (~14 MB) is above the size at which V8 starts incremental marking, and V8
 * counts every buffer a socket read allocates against the old generation's 9 MB of headroom:
 * without a higher floor, streaming fetch responses set off a full mark-compact every 10-20 MB
 * (docs/operations.md, "Run").
 */
export const PROXY_NODE_FLAGS = ['--initial-old-space-size=64'];

const BUILD_TIMEOUT_MS = 180_000;

/** Runs `npm run build` unless dist/cli.js is newer than every file under src/, so the bench measures the current source. */
export async function ensureBuilt(log: (line: string) => void): Promise<void> {
  const built = mtime(CLI_PATH);
  if (built !== undefined && newestUnder(join(REPO_ROOT, 'src')) < built) return;
  log('e2e: building dist/ (npm run build)');
  await runToEnd('npm', ['run', '--silent', '--prefix', REPO_ROOT, 'build'], BUILD_TIMEOUT_MS);
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onParentExit } from './exit-hooks.js';
import { KafkaNode } from './node.js';
import { newClusterId, writeNodeConfig } from './node-config.js';
import { pickFreePorts } from './ports.js';
import type { KafkaDistribution } from './resolve.js';

const RECORD_TIMEOUT_MS = 90_000;

/**
 * JVM flags that load Kafka's classes from a class-data-sharing (AppCDS) archive,
 * recording the archive first when it is missing or stale. Class loading dominates
 * broker start: the archive cuts each node's startup CPU by ~40%, which matters
 * with 3 JVMs on 2 cores. Returns no flags if recording fails.
 */
export async function classSharingFlags(dist: KafkaDistribution, log: (line: string) => void): Promise<string[]> {
  const flags = [`-XX:SharedArchiveFile=${dist.cdsArchive}`];
  if (archiveUsable(dist)) return flags;
  log('kafka: recording a class-data-sharing archive of one broker start (one-time, ~10 s) ...');
  try {
    await recordArchive(dist);
    return flags;
  } catch (err) {
    log(`kafka: starting without a class-data-sharing archive: ${err instanceof Error ? err.message : err}`);
    return [];
  }
}

/** A JDK update or re-copied jars invalidate the archive; -Xshare:on makes the JVM say so. */
function archiveUsable(dist: KafkaDistribution): boolean {
  if (!existsSync(dist.cdsArchive)) return false;
  const probe = spawnSync('java', [`-XX:SharedArchiveFile=${dist.cdsArchive}`, '-Xshare:on', '-cp', dist.classpath, '-version'], {
    stdio: 'ignore',
  });
  return probe.status === 0;
}

async function recordArchive(dist: KafkaDistribution): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kafka-cds-'));
  const partial = `${dist.cdsArchive}.partial-${process.pid}`;
  const [port, controllerPort] = await pickFreePorts(2);
  const spec = { nodeId: 1, port, controllerPort, dir };
  // The dump flag goes only on the broker JVM; a formatter with it would write an archive too.
  const formatter = new KafkaNode(spec, dist.classpath);
  const broker = new KafkaNode(spec, dist.classpath, [`-XX:ArchiveClassesAtExit=${partial}`]);
  const unregister = onParentExit(() => broker.killNow());
  try {
    await writeNodeConfig(spec, [spec]);
    await formatter.format(newClusterId());
    await broker.start(Date.now() + RECORD_TIMEOUT_MS);
    // The JVM writes the archive only on a normal exit, so stop with SIGTERM.
    await broker.stop(RECORD_TIMEOUT_MS);
    if (!existsSync(partial)) throw new Error(`the JVM exited without writing ${partial}`);
    await rename(partial, dist.cdsArchive);
  } finally {
    unregister();
    await broker.stop(0);
    await rm(partial, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

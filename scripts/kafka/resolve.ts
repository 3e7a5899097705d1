import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KafkaDistribution {
  version: string;
  libDir: string;
  /** Java classpath wildcard covering every jar in libDir. */
  classpath: string;
  /** Where the class-data-sharing archive for these jars lives (see cds.ts); may not exist yet. */
  cdsArchive: string;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const pomPath = join(repoRoot, 'scripts/kafka/pom.xml');

/**
 * Makes the Kafka jars pinned in scripts/kafka/pom.xml available under
 * .cache/kafka/<version>/libs, running Maven only when they are missing.
 */
export async function resolveKafka(log: (line: string) => void = console.log): Promise<KafkaDistribution> {
  const { version, hash } = await readPom();
  const versionDir = join(repoRoot, '.cache/kafka', version);
  const libDir = join(versionDir, 'libs');
  // The marker is written only after a complete copy, so an interrupted run or an edited pom is redone.
  const marker = join(versionDir, 'libs.complete');
  const dist = { version, libDir, classpath: join(libDir, '*'), cdsArchive: join(versionDir, 'kafka.jsa') };
  if (await isComplete(marker, libDir, hash)) return dist;

  log(`kafka: resolving Apache Kafka ${version} jars from Maven Central into ${libDir} ...`);
  await mkdir(versionDir, { recursive: true });
  // Copy into a private dir first so concurrent resolvers never see half a libs/.
  const staging = join(versionDir, `libs.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await runMaven(staging);
  if (await isComplete(marker, libDir, hash)) {
    await rm(staging, { recursive: true, force: true });
    return dist;
  }
  await rm(libDir, { recursive: true, force: true });
  // A CDS archive records the jars' sizes and mtimes; one built from older copies is useless.
  await rm(dist.cdsArchive, { force: true });
  await rename(staging, libDir);
  const jars = (await readdir(libDir)).filter((f) => f.endsWith('.jar')).sort();
  await writeFile(marker, [hash, ...jars].join('\n') + '\n');
  log(`kafka: resolved ${jars.length} jars`);
  return dist;
}

async function readPom(): Promise<{ version: string; hash: string }> {
  const pom = await readFile(pomPath, 'utf8');
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match) throw new Error(`no <kafka.version> in ${pomPath}`);
  return { version: match[1].trim(), hash: createHash('sha256').update(pom).digest('hex') };
}

/** Marker format: the pom's hash on the first line, then one jar name per line. */
async function isComplete(marker: string, libDir: string, pomHash: string): Promise<boolean> {
  if (!existsSync(marker)) return false;
  const [hash, ...jars] = (await readFile(marker, 'utf8')).split('\n').filter(Boolean);
  return hash === pomHash && jars.length > 0 && jars.every((jar) => existsSync(join(libDir, jar)));
}

function runMaven(outputDir: string): Promise<void> {
  const args = [
    '-q', '-B', '-Dstyle.color=never',
    '-f', pomPath,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${outputDir}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (err) => reject(new Error(`cannot run mvn (is Maven installed?): ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`mvn ${args.join(' ')} exited with ${code}:\n${output.trim()}`));
    });
  });
}

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

/** Jars of one Maven project resolved into .cache/: where they are, and their version. */
export interface ResolvedJars {
  version: string;
  libDir: string;
  /** Java classpath wildcard covering every jar in libDir. */
  classpath: string;
  /** The directory that holds libDir (per version), for files that go with the jars. */
  versionDir: string;
}

/**
 * Makes the Kafka jars pinned in scripts/kafka/pom.xml available under
 * .cache/kafka/<version>/libs, running Maven only when they are missing.
 */
export async function resolveKafka(log: (line: string) => void = console.log): Promise<KafkaDistribution> {
  const jars = await resolveJars({ name: 'kafka', title: 'Apache Kafka', pomPath: join(repoRoot, 'scripts/kafka/pom.xml'), versionProperty: 'kafka.version' }, log);
  return { version: jars.version, libDir: jars.libDir, classpath: jars.classpath, cdsArchive: join(jars.versionDir, 'kafka.jsa') };
}

/**
 * Copies the runtime dependencies of the pom at `pomPath` (its version in <versionProperty>)
 * into .cache/<name>/<version>/libs from Maven Central, running Maven only when they are missing
 * or the pom changed.
 */
export async function resolveJars(
  project: { name: string; title: string; pomPath: string; versionProperty: string },
  log: (line: string) => void = console.log,
): Promise<ResolvedJars> {
  const { version, hash } = await readPom(project.pomPath, project.versionProperty);
  const versionDir = join(repoRoot, '.cache', project.name, version);
  const libDir = join(versionDir, 'libs');
  // The marker is written only after a complete copy, so an interrupted run or an edited pom is redone.
  const marker = join(versionDir, 'libs.complete');
  const resolved = { version, libDir, classpath: join(libDir, '*'), versionDir };
  if (await isComplete(marker, libDir, hash)) return resolved;

  log(`${project.name}: resolving ${project.title} ${version} jars from Maven Central into ${libDir} ...`);
  await mkdir(versionDir, { recursive: true });
  // Copy into a private dir first so concurrent resolvers never see half a libs/.
  const staging = join(versionDir, `libs.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await runMaven(project.pomPath, staging);
  if (await isComplete(marker, libDir, hash)) {
    await rm(staging, { recursive: true, force: true });
    return resolved;
  }
  await rm(libDir, { recursive: true, force: true });
  // A class-data-sharing archive (kafka.jsa) records the jars' sizes and mtimes; one built from older copies is useless.
  for (const f of await readdir(versionDir)) if (f.endsWith('.jsa')) await rm(join(versionDir, f), { force: true });
  await rename(staging, libDir);
  const jars = (await readdir(libDir)).filter((f) => f.endsWith('.jar')).sort();
  await writeFile(marker, [hash, ...jars].join('\n') + '\n');
  log(`${project.name}: resolved ${jars.length} jars`);
  return resolved;
}

async function readPom(pomPath: string, versionProperty: string): Promise<{ version: string; hash: string }> {
  const pom = await readFile(pomPath, 'utf8');
  const tag = versionProperty.replace(/\./g, '\\.');
  const match = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(pom);
  if (!match) throw new Error(`no <${versionProperty}> in ${pomPath}`);
  return { version: match[1].trim(), hash: createHash('sha256').update(pom).digest('hex') };
}

/** Marker format: the pom's hash on the first line, then one jar name per line. */
async function isComplete(marker: string, libDir: string, pomHash: string): Promise<boolean> {
  if (!existsSync(marker)) return false;
  const [hash, ...jars] = (await readFile(marker, 'utf8')).split('\n').filter(Boolean);
  return hash === pomHash && jars.length > 0 && jars.every((jar) => existsSync(join(libDir, jar)));
}

function runMaven(pomPath: string, outputDir: string): Promise<void> {
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

// Resolves the Kafka jars and checks that the Java interop client compiles and runs from source
// against them (Java's single-file launch compiles it on every run; there is nothing to build).
import { spawnSync } from 'node:child_process';
import { resolveKafka } from '../kafka/resolve.js';

const { classpath } = await resolveKafka();
const run = spawnSync('java', ['-cp', classpath, 'test/interop/java/InteropClient.java'], { encoding: 'utf8' });
// Without arguments the client answers with its JSON usage error, which proves its classes load.
if (!run.stdout.includes('"usage: ')) {
  console.error(`interop: the Java client did not run (exit ${run.status}):\n${run.stdout}${run.stderr}`);
  process.exit(1);
}
console.log(`interop: java client runs from source on ${classpath}`);

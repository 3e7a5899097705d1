/**
 * npm run demo: a real single-node Kafka, the dev token issuer and the proxy with a policy, then a
 * scripted kafkajs client showing an allowed write, a denied write and a denied read.
 * Exit code 0 only if every outcome is as expected.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY_SUMMARY } from './demo-policy.js';
import { printReport } from './report.js';
import { runSteps } from './run-steps.js';
import { startStack } from './stack.js';
import { demoSteps } from './steps.js';
import { Teardown } from './teardown.js';

const teardown = new Teardown();
let interrupted = false;
// After Ctrl-C the steps still under way fail as things stop under them: that is not news.
const say = (line: string): void => {
  if (!interrupted) console.log(line);
};

// Our own handlers make the Kafka harness's signal hooks stand back and leave the stop to us.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the proxy, the issuer and Kafka ...`);
    interrupted = true;
    void teardown.run().finally(() => process.exit(130));
  });
}

async function main(): Promise<boolean> {
  say('kafka-auth-proxy demo\n\nStarting');
  // Kept after the run: the report points at the policy, config and logs in it.
  const dir = await mkdtemp(join(tmpdir(), 'kafka-auth-proxy-demo-'));
  say(`• this run's policy, proxy config and logs: ${dir}`);
  const stack = await startStack(dir, teardown, say);
  say('\nPolicy (default deny)');
  for (const line of POLICY_SUMMARY) say(`  ${line}`);
  say('\nA kafkajs client, through the proxy, with tokens from the issuer');
  const ok = await runSteps(demoSteps(stack.client), say);
  say('\nStopping the proxy, the issuer and Kafka ...\n');
  await teardown.run();
  await printReport(stack, say);
  return ok;
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  async (e: unknown) => {
    if (!interrupted) console.error(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}`);
    await teardown.run();
    process.exitCode = 1;
  },
);

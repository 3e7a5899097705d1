import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';

const TIMEOUT_MS = 180_000;

describe('npm run demo', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    // SIGTERM, not SIGKILL: the demo then stops the Kafka JVM it started.
    if (child?.exitCode === null) child.kill('SIGTERM');
  });

  it(
    'starts its own Kafka, issuer and proxy, and shows an allowed write, a denied write and a denied read',
    async () => {
      // The demo picks its own free ports, so it runs beside the shared test cluster.
      const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo/main.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let output = '';
      proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));

      expect(output).toMatch(/svc-billing writes to "orders"\n +✔ ALLOWED +written to partition 0 at offset \d+/);
      expect(output).toMatch(/svc-billing writes to "payments"\n +✘ DENIED +.*TOPIC_AUTHORIZATION_FAILED/);
      expect(output).toMatch(/svc-analytics reads "payments" \(group orders-demo\)\n +✘ DENIED +.*TOPIC_AUTHORIZATION_FAILED/);
      expect(output).toMatch(/svc-analytics reads "orders" \(group orders-demo\)\n +✔ ALLOWED +got key=order-1001/);
      // The proxy's own log lines for both denials are shown too.
      expect(output).toMatch(/principal=svc-billing api=\w+ topic=payments operation=\w+/);
      expect(output).toMatch(/principal=svc-analytics api=\w+ topic=payments operation=\w+/);
      expect(output).not.toMatch(/UNEXPECTED|demo failed/);
      expect(output, 'no token is printed').not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
      expect(code, output).toBe(0);
    },
    TIMEOUT_MS,
  );
});

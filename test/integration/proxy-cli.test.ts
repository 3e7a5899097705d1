import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../scripts/kafka/ports.js';

describe('kafka-auth-proxy --config (the CLI)', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('runs the proxy from a YAML file, serves clients, and stops cleanly on SIGTERM', async () => {
    const kafka = inject('kafka');
    const [port] = await pickFreePorts(1);
    const base = await pickFreePortBase(kafka.brokers.map((b) => b.nodeId));
    const config = join(mkdtempSync(join(tmpdir(), 'proxy-cli-')), 'proxy.yaml');
    writeFileSync(
      config,
      [
        'upstream:',
        `  bootstrapServers: [${kafka.bootstrapServers.map((s) => `"${s}"`).join(', ')}]`,
        'listeners:',
        `  - { name: plain, bind: 127.0.0.1, port: ${port}, advertisedHost: 127.0.0.1, brokerPorts: { base: ${base} }, authentication: none }`,
      ].join('\n'),
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const lines: { msg: string; port?: number }[] = [];
    proc.stdout!.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l))));
    await expect.poll(() => lines.some((l) => l.msg === 'listening' && l.port === port), { timeout: 20_000 }).toBe(true);

    const admin = new Kafka({ clientId: 'cli-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    expect(cluster.brokers.map((b) => b.port).sort()).toEqual(kafka.brokers.map((b) => base + b.nodeId).sort());

    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });
});

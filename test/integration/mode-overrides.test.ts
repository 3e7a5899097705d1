import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, type Producer, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { readRecordingDir } from '../../src/migration/recording-files.js';
import { oauthListener, startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

const run = randomUUID().slice(0, 8);
const TOPIC = `overrides-${run}`;
const TEAM_A = `team-a-orders-${run}`;
const TEAM_B = `team-b-billing-${run}`;
/** Both teams may see the topic; neither may write it. */
const POLICY = `
roles:
  describer:
    - { topics: ["${TOPIC}"], operations: [describe] }
bindings:
  "${TEAM_A}": [describer]
  "${TEAM_B}": [describer]
`;

describe('per-principal mode overrides: teams switch to enforce one at a time on one listener', () => {
  const recording = mkdtempSync(join(tmpdir(), 'kap-overrides-'));
  let issuer: DevIssuer;
  let tp: TestProxy;
  const producers = new Map<string, Producer>();

  const send = (principal: string) => producers.get(principal)!.send({ topic: TOPIC, messages: [{ value: principal }] });
  const auditLines = (principal: string) => tp.logs.filter((l) => l.msg === 'audit: request would be denied in enforce mode' && l.principal === principal);
  const deniedLines = (principal: string) => tp.logs.filter((l) => l.msg === 'authorization denied' && l.principal === principal);
  const applyOverrides = (mode: 'enforce' | 'audit', modeOverrides?: Record<string, 'enforce' | 'audit'>) => {
    const from = tp.logs.length;
    tp.proxy.apply({ ...tp.config, listeners: [{ ...tp.config.listeners[0], mode, modeOverrides }] });
    return from;
  };

  beforeAll(async () => {
    await createTopic({ topic: TOPIC, numPartitions: 1, replicationFactor: 3 });
    issuer = await startTestIssuer();
    tp = await startTestProxy(
      oauthListener(issuer, { policy: POLICY, mode: 'enforce', modeOverrides: { 'team-b*': 'audit' }, accessRecording: { directory: recording, intervalSeconds: 3600 } }),
    );
    for (const principal of [TEAM_A, TEAM_B]) {
      const kafka = new Kafka({
        brokers: [tp.bootstrap],
        clientId: principal,
        logLevel: logLevel.NOTHING,
        sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await issuer.mint({ subject: principal, roles: [] }) }) },
      });
      const producer = kafka.producer({ retry: { retries: 0 } });
      await producer.connect();
      producers.set(principal, producer);
    }
  });

  afterAll(async () => {
    for (const p of producers.values()) await p.disconnect();
    await tp?.stop();
    await issuer?.stop();
    rmSync(recording, { recursive: true, force: true });
  });

  it('enforces on the listener and audits the principals an override names, on the same listener', async () => {
    await expect(send(TEAM_A)).rejects.toThrow(/authoriz/i);
    await send(TEAM_B);
    expect(deniedLines(TEAM_A).length).toBeGreaterThan(0);
    expect(auditLines(TEAM_B).length).toBeGreaterThan(0);
    expect(deniedLines(TEAM_B)).toEqual([]);
  });

  let switchedAt = 0;

  it('a reload that changes the overrides applies to live connections from their next request', async () => {
    switchedAt = Date.now();
    const from = applyOverrides('enforce', { [`${TEAM_A}`]: 'audit' });
    expect(tp.logs.slice(from).some((l) => l.msg === 'listener mode overrides changed')).toBe(true);
    await send(TEAM_A);
    await expect(send(TEAM_B)).rejects.toThrow(/authoriz/i);
    expect(auditLines(TEAM_A).length).toBeGreaterThan(0);
    expect(deniedLines(TEAM_B).length).toBeGreaterThan(0);
  });

  it('the listener switched to audit lets everyone through; back to enforce, nobody', async () => {
    applyOverrides('audit');
    await send(TEAM_A);
    await send(TEAM_B);
    applyOverrides('enforce');
    await expect(send(TEAM_A)).rejects.toThrow(/authoriz/i);
    await expect(send(TEAM_B)).rejects.toThrow(/authoriz/i);
  });

  it('records the sessions in audit mode only: a session switched to audit in place starts recording at once', async () => {
    for (const p of producers.values()) await p.disconnect();
    producers.clear();
    await tp.stop();
    const identities = (await readRecordingDir(recording)).identities;
    const written = (principal: string) => identities.find((i) => i.principal === principal)?.uses.find((u) => u.kind === 'topic' && u.name === TOPIC && u.operation === 'write');
    // Each team was audited for two of its sends: team-b in the first test and with the listener in audit,
    // team-a only once its override (then the listener) said audit. Its enforced sends left no trace.
    expect(written(TEAM_B)?.count).toBeGreaterThan(0);
    expect(written(TEAM_A)?.count).toBe(written(TEAM_B)?.count);
    expect(written(TEAM_A)!.firstSeen).toBeGreaterThanOrEqual(switchedAt);
  });
});

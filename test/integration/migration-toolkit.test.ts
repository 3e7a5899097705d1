import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type YAMLMap, type YAMLSeq, parseDocument } from 'yaml';
import { parsePolicy } from '../../src/authz/policy-file.js';
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import type { ReportRow } from '../../src/migration/access-report.js';
import { checkRecording } from '../../src/migration/check-recording.js';
import { migrationCommand } from '../../src/migration/cli.js';
import type { ClientMigration } from '../../src/migration/migration-status.js';
import { readRecordingDir } from '../../src/migration/recording-files.js';
import { createLogger } from '../../src/observe/logger.js';
import { type ConsumeResult, javaOAuthArgs, runJavaClient } from '../support/interop-clients.js';
import { oauthListener } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

const id = randomUUID().slice(0, 8);
const TOPIC = `migration-orders-${id}`;
/** As Kafka Connect names a connector's group: not the name a team would guess. */
const GROUP = `connect-billing-sink-${id}`;
const TRANSACTIONAL_ID = `orders-tx-${id}`;
const PRODUCER_APP = 'orders-app';
const CONSUMER_APP = 'billing-app';
const CONSUMER_SECRET = 'billing-app-secret';
const MESSAGES = 5;

/** The producing application: a kafkajs transactional producer. */
async function produceInTransaction(config: KafkaConfig): Promise<void> {
  const producer = new Kafka({ ...config, clientId: PRODUCER_APP }).producer({ transactionalId: TRANSACTIONAL_ID, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const transaction = await producer.transaction();
    await transaction.send({ topic: TOPIC, messages: Array.from({ length: MESSAGES }, (_, i) => ({ value: `order-${i}` })) });
    await transaction.commit();
  } finally {
    await producer.disconnect();
  }
}

/**
 * The consuming application: Java kafka-clients in a consumer group, reading until it has `count`
 * messages; on an OAUTHBEARER listener it logs in at the issuer's token endpoint as CONSUMER_APP.
 */
async function consumeInGroup(bootstrap: string, count: number, login: string[] = []): Promise<void> {
  const result = await runJavaClient<ConsumeResult>(['consume', bootstrap, TOPIC, GROUP, String(count), '--prop', `client.id=${CONSUMER_APP}`, ...login]);
  expect(result.consumed).toBe(count);
}

function kafkaConfig(tp: TestProxy, token?: (subject: string) => Promise<string> | string, subject = ''): KafkaConfig {
  return {
    brokers: [tp.bootstrap],
    logLevel: logLevel.NOTHING,
    ...(token ? { sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token(subject) }) } } : {}),
  };
}

async function command(argv: string[]): Promise<{ code: number; output: string }> {
  let output = '';
  const code = await migrationCommand(argv, (text) => (output += text));
  return { code, output };
}

describe('a scripted migration from a plaintext listener to OAUTHBEARER: a Java consumer group and a kafkajs transactional producer', () => {
  const recording = mkdtempSync(join(tmpdir(), 'kap-recording-'));
  let issuer: DevIssuer;
  let entriesGauge: number | undefined;

  beforeAll(async () => {
    await createTopic({ topic: TOPIC, numPartitions: 2, replicationFactor: 3 });
    // The Java consumer logs in with client credentials as itself; kafkajs gets minted tokens.
    issuer = await startDevIssuer({ port: 0, clients: { [CONSUMER_APP]: { secret: CONSUMER_SECRET, subject: CONSUMER_APP, roles: [] } }, log: createLogger('silent') });
    // Both applications run on the plaintext listener, which records by default.
    const plaintext = await startTestProxy({ accessRecording: { directory: recording, intervalSeconds: 3600 } });
    try {
      await produceInTransaction(kafkaConfig(plaintext));
      await consumeInGroup(plaintext.bootstrap, MESSAGES);
      entriesGauge = (await plaintext.proxy.metrics.accessRecorderEntries.get()).values[0]?.value;
    } finally {
      // Stopping writes the recording.
      await plaintext.stop();
    }
  });

  afterAll(async () => {
    await issuer?.stop();
    rmSync(recording, { recursive: true, force: true });
  });

  it('writes one recording file per proxy run, and reports what it holds as kafka_proxy_access_recorder_entries', async () => {
    expect(readdirSync(recording).filter((f) => /^recording-.+\.json$/.test(f))).toHaveLength(1);
    const uses = (await readRecordingDir(recording)).identities.reduce((n, i) => n + i.uses.length, 0);
    expect(entriesGauge).toBe(uses);
  });

  it("the report lists each application's topics, groups and transactional ids with its address and client id", async () => {
    const { code, output } = await command(['access', 'report', '--recording', recording, '--format', 'json']);
    expect(code).toBe(0);
    const rows = JSON.parse(output) as ReportRow[];
    const used = (clientId: string) => rows.filter((r) => r.clientIds === clientId).map((r) => `${r.resource} ${r.name} ${r.operation}`);
    expect(used(PRODUCER_APP)).toEqual(expect.arrayContaining([`topic ${TOPIC} write`, `transactionalId ${TRANSACTIONAL_ID} write`]));
    expect(used(CONSUMER_APP)).toEqual(expect.arrayContaining([`topic ${TOPIC} read`, `group ${GROUP} read`]));
    expect(rows.every((r) => r.addresses === '127.0.0.1' && r.principal === 'ANONYMOUS')).toBe(true);
  });

  describe('with the suggested policy on an OAUTHBEARER listener in enforce mode', () => {
    let policyText: string;
    let secure: TestProxy;

    beforeAll(async () => {
      const policyFile = join(recording, 'suggested-policy.yaml');
      expect((await command(['policy', 'suggest', '--recording', recording, '--output', policyFile])).code).toBe(0);
      policyText = readFileSync(policyFile, 'utf8');
      // The authenticated listener records too, so migration status sees who has moved.
      secure = await startTestProxy(oauthListener(issuer, { policy: policyText, mode: 'enforce', recordAccess: true, accessRecording: { directory: recording, intervalSeconds: 1 } }));
    });

    afterAll(async () => {
      await secure?.stop();
    });

    it("names the group as it was recorded, and the transactional id, and never grants '*'", () => {
      expect(policyText).toContain(GROUP);
      expect(policyText).toContain(TRANSACTIONAL_ID);
      expect(policyText).not.toMatch(/- "?\*"?$/m);
    });

    it('lets both applications run unchanged once they authenticate as their client ids; migration status follows them', async () => {
      const token = (subject: string) => issuer.mint({ subject, roles: [] });
      await produceInTransaction(kafkaConfig(secure, token, PRODUCER_APP));
      // Once the recording is written (every second), the producer shows as moved and the consumer as still on plaintext.
      const moved = async () => JSON.parse((await command(['migration', 'status', '--recording', recording, '--format', 'json'])).output) as ClientMigration[];
      await expect.poll(async () => (await moved()).map((c) => [c.clientId, c.moved, c.principals]), { timeout: 10_000, interval: 500 }).toEqual([
        [CONSUMER_APP, false, []],
        [PRODUCER_APP, true, [PRODUCER_APP]],
      ]);
      await consumeInGroup(secure.bootstrap, MESSAGES, javaOAuthArgs({ tokenUrl: issuer.tokenUrl, clientId: CONSUMER_APP, clientSecret: CONSUMER_SECRET }));
      expect(secure.logs.filter((l) => l.msg.includes('denied'))).toEqual([]);
    });

    it('policy check flags a hand-edited policy that forgot the group', async () => {
      const edited = parseDocument(policyText);
      const billing = edited.getIn(['roles', CONSUMER_APP]) as YAMLSeq<YAMLMap>;
      billing.items = billing.items.filter((grant) => !grant.has('groups'));
      const editedFile = join(recording, 'edited-policy.yaml');
      writeFileSync(editedFile, edited.toString());
      const { code, output } = await command(['policy', 'check', '--policy', editedFile, '--recording', recording]);
      expect(code).toBe(1);
      expect(output).toContain(`${CONSUMER_APP} (listener test) would be denied:`);
      expect(output).toContain(`read group ${GROUP}`);
      expect(output).not.toContain(PRODUCER_APP);
      expect(checkRecording(parsePolicy(policyText, 'suggested.yaml'), await readRecordingDir(recording))).toEqual([]);
    });
  });
});

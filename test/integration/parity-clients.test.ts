import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import {
  type AwsCredentials,
  awsEnv,
  type InteropRunOptions,
  type ProduceResult,
  rejection,
  runGoClient,
  runKafkaPythonClient,
} from '../support/interop-clients.js';
import { RecordingRelay } from '../support/recording-relay.js';
import { startTestIssuer } from './helpers/issuer.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * Broker parity with three more clients, unchanged, given only the proxy's address: IBM sarama
 * (pinned to an old protocol with --kafka-version, and current), segmentio kafka-go (its Conn API
 * hard-codes Metadata v1; its recipe creates topics on a connection to the controller it learned)
 * and kafka-python (pinned to 0.10.2: no ApiVersions, old Metadata, SaslHandshake v0 then bare SASL
 * frames). Each round-trips records on a transparent listener and on an enforcing one with a
 * policy granting exactly what it needs, and gets its own authorization error for a topic it may
 * not use.
 */

const COUNT = 20;
const REGION = 'us-east-1';
const EXPECTED_RECORDS = Array.from({ length: COUNT }, (_, i) => `k${i}=v${i}`).sort();

const POLICY = `
roles:
  sarama:
    - { topics: ["parity-sarama-*"], operations: [read, write] }
    - { groups: ["parity-sarama-*"], operations: [read] }
  kafka-python:
    - { topics: ["parity-kpy-*"], operations: [read, write] }
    - { groups: ["parity-kpy-*"], operations: [read] }
  kafka-go:
    - { topics: ["parity-kafkago-*"], operations: [create, read, write] }
    - { groups: ["parity-kafkago-*"], operations: [read] }
`;

const KAFKA_GO_KEY: AwsCredentials = { accessKeyId: 'AKIAPARITYKAFKAGO001', secretAccessKey: 'parity/kafka-go+secret-0123456789abcdef' };

interface ConsumedRecords {
  consumed: number;
  partitions: number[];
  records: string[];
}

interface KafkaGoTopology {
  brokers: string[];
  controller: string;
}

const METADATA = 3;

/**
 * Runs `clients` with their bootstrap connections going through a recording relay in front of
 * `bootstrapPort`, and returns the Metadata versions they sent there: proof that a pinned client
 * really spoke the old protocol. Transparent listeners only: the relay cannot frame bare SASL tokens.
 */
async function metadataVersionsAtBootstrap(bootstrapPort: number, clients: (bootstrap: string) => Promise<void>): Promise<Set<number>> {
  const relay = await RecordingRelay.start('127.0.0.1', bootstrapPort);
  try {
    await clients(`127.0.0.1:${relay.port}`);
    return new Set(relay.exchanges.filter((e) => e.apiKey === METADATA).map((e) => e.apiVersion));
  } finally {
    await relay.stop();
  }
}

describe('sarama, kafka-go and kafka-python through the proxy', () => {
  const kafka = inject('kafka');
  const replicationFactor = kafka.brokers.length;
  let issuer: DevIssuer;
  let credentialsFile: string;
  let transparent: TestProxy;
  let enforcing: TestProxy;

  async function freshTopic(prefix: string): Promise<string> {
    const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
    await createTopic({ topic, numPartitions: 3, replicationFactor });
    return topic;
  }

  /** Every proxy port of `tp`'s brokers, and none of the brokers' own. */
  function proxyAddresses(tp: TestProxy): string[] {
    return [...tp.brokerPorts.values()].map((port) => `127.0.0.1:${port}`).sort();
  }

  beforeAll(async () => {
    issuer = await startTestIssuer();
    credentialsFile = join(mkdtempSync(join(tmpdir(), 'parity-clients-')), 'credentials.yaml');
    writeFileSync(
      credentialsFile,
      `accessKeys:\n  ${KAFKA_GO_KEY.accessKeyId}:\n    secretAccessKey: ${JSON.stringify(KAFKA_GO_KEY.secretAccessKey)}\n    principal: User:kafka-go\n    roles: [kafka-go]\n`,
    );
    [transparent, enforcing] = await Promise.all([
      startTestProxy(),
      startTestProxy({
        authentication: ['OAUTHBEARER', 'AWS_MSK_IAM'],
        oauthbearer: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer },
        awsMskIam: { region: REGION, credentialsFile },
        policy: POLICY,
        mode: 'enforce',
      }),
    ]);
  });

  afterAll(async () => {
    await transparent?.stop();
    await enforcing?.stop();
    await issuer?.stop();
    if (credentialsFile) rmSync(dirname(credentialsFile), { recursive: true, force: true });
  });

  /** Principals the enforcing proxy logged as authenticated for `clientId`. */
  function authenticated(clientId: string): Set<unknown> {
    return new Set(enforcing.logs.filter((l) => l.msg === 'authenticated' && l.clientId === clientId).map((l) => l.principal));
  }

  describe('IBM sarama', () => {
    const sarama = async (bootstrap: string, flags: string[], opts?: InteropRunOptions) => {
      const topic = await freshTopic('parity-sarama');
      const produced = await runGoClient<ProduceResult>(['sarama-produce', bootstrap, topic, String(COUNT), ...flags], opts);
      const consumed = await runGoClient<ConsumedRecords>(['sarama-consume', bootstrap, topic, `parity-sarama-g-${topic}`, String(COUNT), ...flags], opts);
      expect(produced).toEqual({ produced: COUNT, partitions: [0, 1, 2] });
      expect(consumed).toEqual({ consumed: COUNT, partitions: [0, 1, 2], records: EXPECTED_RECORDS });
    };

    it('round-trips records on a transparent listener, pinned to 0.10.2.0 (Metadata v2) and at 3.9.0', async () => {
      const [pinned] = await Promise.all([
        metadataVersionsAtBootstrap(transparent.bootstrapPort, (bootstrap) => sarama(bootstrap, ['--kafka-version', '0.10.2.0'])),
        sarama(transparent.bootstrap, ['--kafka-version', '3.9.0']),
      ]);
      expect(pinned).toEqual(new Set([2]));
    });

    it('round-trips records with OAUTHBEARER on an enforcing listener, at 1.0.0 (its oldest with SaslAuthenticate) and 3.9.0', async () => {
      // Below 1.0.0 sarama refuses on its own side to send the SaslHandshake v1 it needs for OAUTHBEARER.
      const env = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-sarama', roles: ['sarama'] }) };
      await Promise.all(['1.0.0', '3.9.0'].map((v) => sarama(enforcing.bootstrap, ['--kafka-version', v, '--sasl', 'oauthbearer'], { env })));
      expect(authenticated('interop-sarama')).toEqual(new Set(['svc-sarama']));
    });

    it('gets TOPIC_AUTHORIZATION_FAILED at once for a topic without a grant', async () => {
      const topic = await freshTopic('denied-sarama');
      const env = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-sarama', roles: ['sarama'] }) };
      const r = await rejection(runGoClient(['sarama-produce', enforcing.bootstrap, topic, '5', '--sasl', 'oauthbearer'], { env, timeoutMs: 50_000 }));
      expect(r.type, r.error).toBe('sarama.TOPIC_AUTHORIZATION_FAILED');
      expect(r.ms).toBeLessThan(20_000);
    });
  });

  describe('segmentio kafka-go', () => {
    const admin = () => new Kafka({ clientId: 'parity-check', brokers: kafka.bootstrapServers, logLevel: logLevel.NOTHING }).admin();

    /** Partition count and replicas per partition, as every broker reports them, once each has leaders for all. */
    async function topicOnEveryBroker(topic: string): Promise<{ partitions: number; replicas: number[] }> {
      let last = { partitions: 0, replicas: [] as number[] };
      for (const broker of kafka.brokers) {
        const a = new Kafka({ clientId: 'parity-check', brokers: [`${broker.host}:${broker.port}`], logLevel: logLevel.NOTHING }).admin();
        await a.connect();
        try {
          const deadline = Date.now() + 30_000;
          for (;;) {
            const [metadata] = await a.fetchTopicMetadata({ topics: [topic] }).then(
              (m) => m.topics,
              () => [undefined],
            );
            if (metadata && metadata.partitions.length > 0 && metadata.partitions.every((p) => p.leader >= 0)) {
              last = { partitions: metadata.partitions.length, replicas: metadata.partitions.map((p) => p.replicas.length) };
              break;
            }
            if (Date.now() > deadline) throw new Error(`broker ${broker.nodeId} has no leaders for ${topic}`);
            await sleep(100);
          }
        } finally {
          await a.disconnect();
        }
      }
      return last;
    }

    async function kafkaGoRoundTrip(tp: TestProxy, flags: string[], opts?: InteropRunOptions, bootstrap = tp.bootstrap): Promise<void> {
      const topic = `parity-kafkago-${randomUUID().slice(0, 8)}`;
      const topology = await runGoClient<KafkaGoTopology>(['kafkago-create-topic', bootstrap, topic, '3', String(replicationFactor), ...flags], opts);
      expect(topology.brokers).toEqual(proxyAddresses(tp));
      expect(proxyAddresses(tp)).toContain(topology.controller);
      expect(await topicOnEveryBroker(topic)).toEqual({ partitions: 3, replicas: [replicationFactor, replicationFactor, replicationFactor] });

      const produced = await runGoClient<ProduceResult>(['kafkago-produce', bootstrap, topic, String(COUNT), ...flags], opts);
      const consumed = await runGoClient<ConsumedRecords>(['kafkago-consume', bootstrap, topic, `parity-kafkago-g-${topic}`, String(COUNT), ...flags], opts);
      expect(produced).toEqual({ produced: COUNT, partitions: [0, 1, 2] });
      expect(consumed).toEqual({ consumed: COUNT, partitions: [0, 1, 2], records: EXPECTED_RECORDS });
    }

    it('Controller() and Brokers() name the proxy; a topic created on the controller connection exists; records round-trip (transparent)', async () => {
      const versions = await metadataVersionsAtBootstrap(transparent.bootstrapPort, (bootstrap) => kafkaGoRoundTrip(transparent, [], undefined, bootstrap));
      // v1 from Brokers() and Controller(); the Writer and Reader negotiate newer ones.
      expect(versions).toContain(1);
    });

    it('the same with AWS_MSK_IAM on an enforcing listener', async () => {
      await kafkaGoRoundTrip(enforcing, ['--sasl', 'aws'], { env: awsEnv(KAFKA_GO_KEY, REGION) });
      expect(authenticated('interop-kafka-go')).toEqual(new Set(['User:kafka-go']));
    });

    it('is refused at once creating or writing a topic without a grant', async () => {
      const existing = await freshTopic('denied-kafkago');
      const notCreated = `denied-kafkago-${randomUUID().slice(0, 8)}`;
      const opts = { env: awsEnv(KAFKA_GO_KEY, REGION), timeoutMs: 50_000 };
      const [create, write] = await Promise.all([
        rejection(runGoClient(['kafkago-create-topic', enforcing.bootstrap, notCreated, '1', String(replicationFactor), '--sasl', 'aws'], opts)),
        rejection(runGoClient(['kafkago-produce', enforcing.bootstrap, existing, '5', '--sasl', 'aws'], opts)),
      ]);
      expect(create.type, create.error).toBe('kafka-go.TOPIC_AUTHORIZATION_FAILED');
      // The Writer looks the topic up in its cached all-topics Metadata, which leaves out topics the
      // principal may not describe (as a broker with ACLs does), so it never gets to Produce.
      expect(write.type, write.error).toBe('kafka-go.UNKNOWN_TOPIC_OR_PARTITION');
      for (const r of [create, write]) expect(r.ms).toBeLessThan(20_000);
      const a = admin();
      await a.connect();
      try {
        expect(await a.listTopics()).not.toContain(notCreated);
      } finally {
        await a.disconnect();
      }
    });
  });

  describe('kafka-python', () => {
    const kafkaPython = async (bootstrap: string, flags: string[], opts?: InteropRunOptions) => {
      const topic = await freshTopic('parity-kpy');
      const produced = await runKafkaPythonClient<ProduceResult>(['produce', bootstrap, topic, String(COUNT), ...flags], opts);
      const consumed = await runKafkaPythonClient<ConsumedRecords>(['consume', bootstrap, topic, `parity-kpy-g-${topic}`, String(COUNT), ...flags], opts);
      expect(produced).toEqual({ produced: COUNT, partitions: [0, 1, 2] });
      expect(consumed).toEqual({ consumed: COUNT, partitions: [0, 1, 2], records: EXPECTED_RECORDS });
    };

    it('round-trips records on a transparent listener, pinned to 0.10.2 (Metadata v0-v3 only) and negotiating', async () => {
      const [pinned] = await Promise.all([
        metadataVersionsAtBootstrap(transparent.bootstrapPort, (bootstrap) => kafkaPython(bootstrap, ['--api-version', '0.10.2'])),
        kafkaPython(transparent.bootstrap, ['--api-version', 'auto']),
      ]);
      expect(pinned.size).toBeGreaterThan(0);
      for (const v of pinned) expect(v).toBeLessThanOrEqual(3);
    });

    it('round-trips records with OAUTHBEARER on an enforcing listener, pinned to 0.10.2 (SaslHandshake v0) and negotiating', async () => {
      const env = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-kafka-python', roles: ['kafka-python'] }) };
      await Promise.all(['0.10.2', 'auto'].map((v) => kafkaPython(enforcing.bootstrap, ['--api-version', v, '--sasl', 'oauthbearer'], { env })));
      expect(authenticated('interop-kafka-python')).toEqual(new Set(['svc-kafka-python']));
    });

    it('gets TopicAuthorizationFailedError at once for a topic without a grant, pinned and negotiating', async () => {
      const topic = await freshTopic('denied-kpy');
      const env = { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-kafka-python', roles: ['kafka-python'] }) };
      const results = await Promise.all(
        ['0.10.2', 'auto'].map((v) =>
          rejection(runKafkaPythonClient(['produce', enforcing.bootstrap, topic, '5', '--api-version', v, '--sasl', 'oauthbearer'], { env, timeoutMs: 50_000 })),
        ),
      );
      for (const r of results) {
        expect(r.type, r.error).toBe('TopicAuthorizationFailedError');
        expect(r.ms).toBeLessThan(20_000);
      }
    });
  });
});

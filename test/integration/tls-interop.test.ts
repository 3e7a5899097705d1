import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { type ClientOptions, createKafkaClient, oAuthBearer, setLogger } from 'kafka-ts';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DevIssuer } from '../../src/dev-issuer/issuer.js';
import { type Issued, issue, loopbackServer, makeCa, writePem } from '../support/certificates.js';
import {
  type AwsCredentials,
  awsEnv,
  type ConsumeResult,
  type DescribeResult,
  type InteropRunOptions,
  javaIamOAuthArgs,
  javaLibsClasspath,
  javaMskIamArgs,
  javaOAuthArgs,
  type ProduceResult,
  propArgs,
  pythonOAuthArgs,
  rejection,
  runGoClient,
  runJavaClient,
  runPythonClient,
} from '../support/interop-clients.js';
import { oauthListener, startTestIssuer, testClientCredentials } from './helpers/issuer.js';
import { kafkajsRoundTrip } from './helpers/kafkajs-round-trip.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';
import { createTopic } from './helpers/topics.js';

/**
 * TLS listeners with the real clients, unchanged, against the real cluster: SASL_SSL with
 * OAUTHBEARER (Java kafka-clients, librdkafka, franz-go, kafka-ts), SASL_SSL with AWS_MSK_IAM and
 * IAM tokens over OAUTHBEARER (aws-msk-iam-auth, and the Python and JS signer libraries), SSL with
 * client certificates mapped to a principal the policy binds (Java, librdkafka), and SNI routing
 * through one port to every broker (Java, librdkafka). Each client trusts the test CA from a PEM
 * file, checks the proxy's host name (the certificate names 127.0.0.1, localhost and the SNI
 * names) and produces and consumes a few records.
 *
 * Name resolution for SNI without touching /etc/hosts: the JVM reads its own hosts file
 * (-Djdk.net.hosts.file); librdkafka (glibc getaddrinfo) runs in a private mount namespace where
 * a hosts file is bind-mounted over /etc/hosts (unshare). glibc's HOSTALIASES cannot do it: it
 * only rewrites a dotless name into another name that is then asked of DNS, never of /etc/hosts.
 */

const quiet = () => {};
setLogger({ debug: quiet, info: quiet, warn: quiet, error: quiet });

const COUNT = 12;
const REGION = 'us-east-1';
const PARTITIONS = [0, 1, 2];
const ALICE: AwsCredentials = { accessKeyId: 'AKIATLSINTEROPALICE1', secretAccessKey: 'tls-interop/alice+secret-0123456789abcdef' };
/** aws-msk-iam-auth signs the host name of the address it dialed; no reverse DNS keeps that 127.0.0.1 (see aws-msk-iam-interop.test.ts). */
const NO_REVERSE_DNS = ['-Djdk.net.hosts.file=/dev/null'];

const SNI_DOMAIN = 'kafka.test';
const SNI = { bootstrapHost: `bootstrap.${SNI_DOMAIN}`, brokerHostPattern: `broker-{nodeId}.${SNI_DOMAIN}` };
/** Names without a dot: Java would send no server name for them, librdkafka does. */
const SNI_DOTLESS = { bootstrapHost: 'kafka-bootstrap', brokerHostPattern: 'kafka-broker-{nodeId}' };

/** The client certificate's subject (RFC 2253: CN=Billing-App,OU=apps,O=Acme) maps to billing-app. */
const MAPPING_RULES = ['RULE:^CN=([^,]+),OU=apps,O=Acme$/$1/L', 'DEFAULT'];
const MTLS_POLICY = `
roles:
  billing:
    - { topics: ["tls-billing-*"], operations: [read, write, create] }
    - { groups: ["g-tls-billing-*"], operations: [read] }
bindings:
  billing-app: [billing]
`;

async function freshTopic(prefix: string): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await createTopic({ topic, numPartitions: 3, replicationFactor: 3 });
  return topic;
}

/** Produces COUNT records to the topic's 3 partitions, then consumes them in a fresh group, with one client. */
async function produceThenConsume(
  run: <T>(args: string[], opts?: InteropRunOptions) => Promise<T>,
  bootstrap: string,
  topic: string,
  writerArgs: string[],
  readerArgs: string[] = writerArgs,
  opts: InteropRunOptions = {},
): Promise<{ produced: ProduceResult; consumed: ConsumeResult }> {
  const produced = await run<ProduceResult>(['produce', bootstrap, topic, String(COUNT), ...writerArgs], opts);
  const consumed = await run<ConsumeResult>(['consume', bootstrap, topic, `g-${topic}`, String(COUNT), ...readerArgs], opts);
  return { produced, consumed };
}

const roundTrip = { produced: { produced: COUNT, partitions: PARTITIONS }, consumed: { consumed: COUNT, partitions: PARTITIONS } };

/** kafka-ts (in process, client id tls-kafka-ts) produces COUNT records and reads them back in a fresh group; resolves with how many it read. */
async function kafkaTsRoundTrip(
  { host, port, ssl, sasl }: { host: string; port: number; ssl: ClientOptions['ssl']; sasl?: ClientOptions['sasl'] },
  topic: string,
): Promise<number> {
  const client = createKafkaClient({ clientId: 'tls-kafka-ts', bootstrapServers: [{ host, port }], ssl, sasl });
  const producer = client.createProducer({});
  await producer.send(Array.from({ length: COUNT }, (_, i) => ({ topic, partition: i % 3, key: `k${i}`, value: `v${i}` })));
  await producer.close();
  const seen = new Set<string>();
  const consumer = await client.startConsumer({
    groupId: `g-${topic}`,
    topics: [topic],
    fromTimestamp: -2n,
    maxWaitMs: 100,
    onBatch: async (batch) => batch.forEach((m) => seen.add(String(m.value))),
  });
  await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(COUNT);
  await consumer.close();
  return seen.size;
}

/** Java kafka-clients trusting the CA from a PEM file (no JKS needed since Kafka 2.7). */
function javaTrust(caFile: string): Record<string, string> {
  return { 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': caFile };
}

/** Principals the proxy logged as authenticated for a client id since log line `from`, with their mechanism. */
function authenticatedAs(tp: TestProxy, from: number, clientId: string): string[] {
  const lines = tp.logs.slice(from).filter((l) => l.msg === 'authenticated' && l.clientId === clientId);
  return [...new Set(lines.map((l) => `${String(l.mechanism)} ${String(l.principal)}`))].sort();
}

describe('TLS listeners with the Java, librdkafka, franz-go, kafkajs and kafka-ts clients', () => {
  const ca = makeCa();
  const caFile = writePem('ca.pem', ca.cert);
  let issuer: DevIssuer;
  let oauth: TestProxy;
  let aws: TestProxy;
  let mtls: TestProxy;
  let sni: TestProxy;
  let sniDotless: TestProxy;
  let nodeIds: number[];

  beforeAll(async () => {
    nodeIds = inject('kafka').brokers.map((b) => b.nodeId);
    const sniNames = [SNI.bootstrapHost, `*.${SNI_DOMAIN}`, SNI_DOTLESS.bootstrapHost, ...nodeIds.map((id) => SNI_DOTLESS.brokerHostPattern.replace('{nodeId}', String(id)))];
    const server = loopbackServer(ca, sniNames);
    const tls = { certFile: writePem('server.pem', server.cert), keyFile: writePem('server.key', server.key) };
    const awsCredentialsFile = join(mkdtempSync(join(tmpdir(), 'tls-interop-aws-')), 'credentials.yaml');
    writeFileSync(
      awsCredentialsFile,
      `accessKeys:\n  ${ALICE.accessKeyId}:\n    secretAccessKey: ${JSON.stringify(ALICE.secretAccessKey)}\n    principal: User:alice\n    roles: [orders-writer]\n`,
    );
    issuer = await startTestIssuer();
    [oauth, aws, mtls, sni, sniDotless] = await Promise.all([
      startTestProxy(oauthListener(issuer, { tls })),
      startTestProxy({ authentication: ['AWS_MSK_IAM', 'OAUTHBEARER'], awsMskIam: { region: REGION, credentialsFile: awsCredentialsFile }, tls }),
      startTestProxy({
        authentication: ['MTLS'],
        tls: { ...tls, caFile, clientAuth: 'required', principalMappingRules: MAPPING_RULES },
        policy: MTLS_POLICY,
      }),
      startTestProxy(oauthListener(issuer, { tls, sni: SNI })),
      startTestProxy(oauthListener(issuer, { tls, sni: SNI_DOTLESS })),
    ]);
  });

  afterAll(async () => {
    await Promise.all([oauth?.stop(), aws?.stop(), mtls?.stop(), sni?.stop(), sniDotless?.stop()]);
    await issuer?.stop();
  });

  it('SASL_SSL with OAUTHBEARER: Java, librdkafka, franz-go and kafka-ts produce and consume', { timeout: 150_000 }, async () => {
    const from = oauth.logs.length;
    const sasl = { 'security.protocol': 'SASL_SSL' };
    const [javaTopic, pythonTopic, goTopic, kafkaTsTopic] = await Promise.all(['tls-oauth-java', 'tls-oauth-python', 'tls-oauth-go', 'tls-oauth-kafka-ts'].map(freshTopic));
    const goTls = ['--sasl', 'oauthbearer', '--tls-ca', caFile];
    const [writerToken, readerToken] = await Promise.all([issuer.mint({ subject: 'svc-writer', roles: [] }), issuer.mint({ subject: 'svc-reader', roles: [] })]);

    const [java, python, go, kafkaTsConsumed] = await Promise.all([
      produceThenConsume(
        runJavaClient,
        oauth.bootstrap,
        javaTopic,
        [...javaOAuthArgs(testClientCredentials(issuer, 'svc-writer')), ...propArgs({ ...sasl, ...javaTrust(caFile) })],
        [...javaOAuthArgs(testClientCredentials(issuer, 'svc-reader')), ...propArgs({ ...sasl, ...javaTrust(caFile) })],
      ),
      produceThenConsume(
        runPythonClient,
        oauth.bootstrap,
        pythonTopic,
        [...pythonOAuthArgs(testClientCredentials(issuer, 'svc-writer')), ...propArgs({ ...sasl, 'ssl.ca.location': caFile })],
        [...pythonOAuthArgs(testClientCredentials(issuer, 'svc-reader')), ...propArgs({ ...sasl, 'ssl.ca.location': caFile })],
      ),
      (async () => {
        const produced = await runGoClient<ProduceResult>(['produce', oauth.bootstrap, goTopic, String(COUNT), ...goTls], { env: { KAFKA_OAUTH_TOKEN: writerToken } });
        const consumed = await runGoClient<ConsumeResult>(['consume', oauth.bootstrap, goTopic, `g-${goTopic}`, String(COUNT), ...goTls], { env: { KAFKA_OAUTH_TOKEN: readerToken } });
        return { produced, consumed };
      })(),
      kafkaTsRoundTrip(
        { host: '127.0.0.1', port: oauth.bootstrapPort, ssl: { ca: ca.cert }, sasl: oAuthBearer(async () => ({ access_token: writerToken })) },
        kafkaTsTopic,
      ),
    ]);

    expect({ java, python, go }).toEqual({ java: roundTrip, python: roundTrip, go: roundTrip });
    expect(kafkaTsConsumed).toBe(COUNT);
    for (const clientId of ['interop-java', 'interop-python', 'interop-go']) {
      expect(authenticatedAs(oauth, from, clientId), clientId).toEqual(['OAUTHBEARER svc-reader', 'OAUTHBEARER svc-writer']);
    }
    expect(authenticatedAs(oauth, from, 'tls-kafka-ts')).toEqual(['OAUTHBEARER svc-writer']);
    expect(oauth.logs.slice(from).filter((l) => l.msg === 'TLS handshake failed' || l.msg === 'authentication failed')).toEqual([]);
  });

  it('SASL_SSL with AWS_MSK_IAM (aws-msk-iam-auth) and IAM tokens over OAUTHBEARER (aws-msk-iam-auth, Python and JS signers)', { timeout: 150_000 }, async () => {
    const from = aws.logs.length;
    const [mskIamTopic, iamOAuthTopic, pythonTopic, kafkajsTopic] = await Promise.all(['tls-iam-java', 'tls-iam-oauth-java', 'tls-iam-python', 'tls-iam-kafkajs'].map(freshTopic));
    const javaTls = propArgs({ 'security.protocol': 'SASL_SSL', ...javaTrust(caFile) });
    const javaOpts: InteropRunOptions = { classpath: javaLibsClasspath(), jvmFlags: NO_REVERSE_DNS, env: awsEnv(ALICE, REGION) };
    const pythonArgs = ['--sasl', 'aws-oauth', ...propArgs({ 'security.protocol': 'SASL_SSL', 'ssl.ca.location': caFile })];

    // The JS signer takes its credentials from the default AWS chain, as the others do: the environment.
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
    const kafkajs = new Kafka({
      clientId: 'tls-iam-kafkajs',
      brokers: [aws.bootstrap],
      logLevel: logLevel.NOTHING,
      ssl: { ca: [ca.cert] },
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region: REGION })).token }) },
    });

    try {
      const [mskIam, iamOAuth, python] = await Promise.all([
        produceThenConsume(runJavaClient, aws.bootstrap, mskIamTopic, [...javaMskIamArgs(), ...javaTls], undefined, javaOpts),
        produceThenConsume(runJavaClient, aws.bootstrap, iamOAuthTopic, [...javaIamOAuthArgs(), ...javaTls], undefined, javaOpts),
        produceThenConsume(runPythonClient, aws.bootstrap, pythonTopic, pythonArgs, undefined, { env: awsEnv(ALICE, REGION) }),
        kafkajsRoundTrip(kafkajs, kafkajsTopic, COUNT),
      ]);
      expect({ mskIam, iamOAuth, python }).toEqual({ mskIam: roundTrip, iamOAuth: roundTrip, python: roundTrip });
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    expect(authenticatedAs(aws, from, 'interop-java')).toEqual(['AWS_MSK_IAM User:alice', 'OAUTHBEARER User:alice']);
    expect(authenticatedAs(aws, from, 'interop-python')).toEqual(['OAUTHBEARER User:alice']);
    expect(authenticatedAs(aws, from, 'tls-iam-kafkajs')).toEqual(['OAUTHBEARER User:alice']);
    expect(aws.logs.slice(from).filter((l) => l.msg === 'TLS handshake failed' || l.msg === 'authentication failed')).toEqual([]);
  });

  describe('SSL with client certificates (MTLS), mapped to a principal the policy binds', () => {
    let client: Issued;
    let keystoreFile: string;
    let certFile: string;
    let keyFile: string;

    beforeAll(() => {
      client = issue(ca, { subject: [['O', 'Acme'], ['OU', 'apps'], ['CN', 'Billing-App']], usage: 'client' });
      // Java's PEM key store: the PKCS#8 key and the certificate chain in one file.
      keystoreFile = writePem('billing-keystore.pem', client.key, client.cert);
      certFile = writePem('billing.pem', client.cert);
      keyFile = writePem('billing.key', client.key);
    });

    type ProduceEachResult = { topics: Record<string, { delivered: number; failed: number; error?: Record<string, unknown> }> };

    it('Java (PEM key store), librdkafka, franz-go and kafka-ts write and read their topic; a topic outside the grants fails with TOPIC_AUTHORIZATION_FAILED', { timeout: 150_000 }, async () => {
      const from = mtls.logs.length;
      const [javaTopic, pythonTopic, goTopic, kafkaTsTopic, javaHidden, pythonHidden] = await Promise.all(
        ['tls-billing-java', 'tls-billing-python', 'tls-billing-go', 'tls-billing-kafka-ts', 'tls-hidden-java', 'tls-hidden-python'].map(freshTopic),
      );
      const javaArgs = propArgs({ 'security.protocol': 'SSL', ...javaTrust(caFile), 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': keystoreFile });
      const pythonArgs = propArgs({ 'security.protocol': 'SSL', 'ssl.ca.location': caFile, 'ssl.certificate.location': certFile, 'ssl.key.location': keyFile });
      // The key and chain inline instead of in a file, as a secret store would hand them over.
      const javaInlineArgs = propArgs({ 'security.protocol': 'SSL', ...javaTrust(caFile), 'ssl.keystore.type': 'PEM', 'ssl.keystore.key': client.key, 'ssl.keystore.certificate.chain': client.cert });
      const lane = async (run: typeof runJavaClient, topic: string, hidden: string, args: string[], consumeArgs = args) => {
        const produced = await run<ProduceEachResult>(['produce-each', mtls.bootstrap, `${topic},${hidden}`, String(COUNT), ...args]);
        const consumed = await run<ConsumeResult>(['consume', mtls.bootstrap, topic, `g-${topic}`, String(COUNT), ...consumeArgs]);
        return { produced, consumed };
      };
      const [java, python, go, kafkaTsConsumed] = await Promise.all([
        lane(runJavaClient, javaTopic, javaHidden, javaArgs, javaInlineArgs),
        lane(runPythonClient, pythonTopic, pythonHidden, pythonArgs),
        produceThenConsume(runGoClient, mtls.bootstrap, goTopic, ['--tls-ca', caFile, '--tls-cert', certFile, '--tls-key', keyFile]),
        kafkaTsRoundTrip({ host: '127.0.0.1', port: mtls.bootstrapPort, ssl: { ca: ca.cert, cert: client.cert, key: client.key } }, kafkaTsTopic),
      ]);
      expect(go).toEqual(roundTrip);
      expect(kafkaTsConsumed).toBe(COUNT);

      expect(java.produced.topics[javaTopic]).toEqual({ delivered: COUNT, failed: 0 });
      expect(java.produced.topics[javaHidden]).toEqual({
        delivered: 0,
        failed: COUNT,
        error: {
          type: 'org.apache.kafka.common.errors.TopicAuthorizationException',
          code: 'TOPIC_AUTHORIZATION_FAILED',
          message: `Not authorized to access topics: [${javaHidden}]`,
          unauthorizedTopics: [javaHidden],
        },
      });
      expect(java.consumed.consumed).toBe(COUNT);
      expect(python.produced.topics[pythonTopic]).toEqual({ delivered: COUNT, failed: 0 });
      expect(python.produced.topics[pythonHidden]).toEqual({ delivered: 0, failed: COUNT, error: { code: 'TOPIC_AUTHORIZATION_FAILED', message: expect.any(String) } });
      expect(python.consumed.consumed).toBe(COUNT);

      const lines = mtls.logs.slice(from);
      expect(new Set(lines.filter((l) => l.msg === 'authenticated').map((l) => `${String(l.mechanism)} ${String(l.principal)}`))).toEqual(new Set(['MTLS billing-app']));
      expect(lines.some((l) => l.msg === 'authorization denied' && (l.clientId === 'interop-go' || l.clientId === 'tls-kafka-ts'))).toBe(false);
      for (const [clientId, hidden] of [
        ['interop-java', javaHidden],
        ['interop-python', pythonHidden],
      ]) {
        expect(lines, clientId).toContainEqual(
          expect.objectContaining({ msg: 'authorization denied', principal: 'billing-app', clientId, resources: [expect.objectContaining({ resourceType: 'topic', resourceName: hidden })] }),
        );
      }
      expect(lines.filter((l) => l.msg === 'TLS handshake failed' || l.msg === 'authentication failed')).toEqual([]);
    });
  });

  describe('SNI routing: one port, every broker by name', () => {
    let hostsFile: string;
    /** librdkafka in a private mount namespace whose /etc/hosts is `hostsFile` (the machine's is untouched). */
    let launcher: string[];

    beforeAll(() => {
      const names = [SNI, SNI_DOTLESS].flatMap((s) => [s.bootstrapHost, ...nodeIds.map((id) => s.brokerHostPattern.replace('{nodeId}', String(id)))]);
      hostsFile = join(mkdtempSync(join(tmpdir(), 'tls-interop-hosts-')), 'hosts');
      writeFileSync(hostsFile, `127.0.0.1 localhost ${names.join(' ')}\n`);
      launcher = ['unshare', '--mount', '--map-root-user', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile];
    });

    /** Every host:port a client can learn, on a listener routing by `names`. */
    const sniAddresses = (tp: TestProxy, names: { brokerHostPattern: string }) =>
      nodeIds.map((id) => `${names.brokerHostPattern.replace('{nodeId}', String(id))}:${tp.bootstrapPort}`).sort();

    /** The brokers leading the topic's partitions, from the cluster itself. */
    async function leadersOf(topic: string): Promise<Set<string>> {
      const admin = new Kafka({ clientId: 'tls-interop-setup', brokers: inject('kafka').bootstrapServers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        return new Set(metadata.partitions.map((p) => `broker ${p.leader}`));
      } finally {
        await admin.disconnect();
      }
    }

    /** What the client's connections served (bootstrap, broker N), from the proxy's authenticated lines. */
    function served(tp: TestProxy, from: number, clientId: string): Set<unknown> {
      return new Set(tp.logs.slice(from).filter((l) => l.msg === 'authenticated' && l.clientId === clientId).map((l) => l.serves));
    }

    it('Java (jdk.net.hosts.file), librdkafka and franz-go learn only SNI names of the proxy, and produce and consume through the one port', { timeout: 150_000 }, async () => {
      const from = sni.logs.length;
      const bootstrap = `${SNI.bootstrapHost}:${sni.bootstrapPort}`;
      const [javaTopic, pythonTopic, goTopic] = await Promise.all(['tls-sni-java', 'tls-sni-python', 'tls-sni-go'].map(freshTopic));
      const goArgs = ['--sasl', 'oauthbearer', '--tls-ca', caFile];
      const goOpts: InteropRunOptions = { launcher, env: { KAFKA_OAUTH_TOKEN: await issuer.mint({ subject: 'svc-writer', roles: [] }) } };
      const javaOpts: InteropRunOptions = { jvmFlags: [`-Djdk.net.hosts.file=${hostsFile}`] };
      const javaArgs = [...javaOAuthArgs(testClientCredentials(issuer, 'svc-writer')), ...propArgs({ 'security.protocol': 'SASL_SSL', ...javaTrust(caFile) })];
      const pythonOpts: InteropRunOptions = { launcher };
      const pythonArgs = [...pythonOAuthArgs(testClientCredentials(issuer, 'svc-writer')), ...propArgs({ 'security.protocol': 'SASL_SSL', 'ssl.ca.location': caFile })];

      const [java, python, go] = await Promise.all([
        (async () => ({
          described: await runJavaClient<DescribeResult>(['describe', bootstrap, ...javaArgs], javaOpts),
          ...(await produceThenConsume(runJavaClient, bootstrap, javaTopic, javaArgs, javaArgs, javaOpts)),
        }))(),
        (async () => ({
          described: await runPythonClient<DescribeResult>(['describe', bootstrap, ...pythonArgs], pythonOpts),
          ...(await produceThenConsume(runPythonClient, bootstrap, pythonTopic, pythonArgs, pythonArgs, pythonOpts)),
        }))(),
        (async () => ({
          described: await runGoClient<DescribeResult>(['describe', bootstrap, ...goArgs], goOpts),
          ...(await produceThenConsume(runGoClient, bootstrap, goTopic, goArgs, goArgs, goOpts)),
        }))(),
      ]);

      const expected = sniAddresses(sni, SNI);
      for (const [name, { described, ...trip }] of Object.entries({ java, python, go })) {
        expect(described.nodes, name).toEqual(expected);
        expect(described.addresses.filter((a) => !expected.includes(a)), name).toEqual([]);
        expect(trip, name).toEqual(roundTrip);
      }
      const [javaLeaders, pythonLeaders, goLeaders] = await Promise.all([leadersOf(javaTopic), leadersOf(pythonTopic), leadersOf(goTopic)]);
      for (const [clientId, leaders] of [
        ['interop-java', javaLeaders],
        ['interop-python', pythonLeaders],
        ['interop-go', goLeaders],
      ] as const) {
        const seen = served(sni, from, clientId);
        expect(seen.has('bootstrap'), clientId).toBe(true);
        for (const leader of leaders) expect(seen.has(leader), `${clientId} ${leader}`).toBe(true);
      }
      expect(sni.logs.slice(from).filter((l) => l.msg === 'TLS handshake failed' || l.msg === 'authentication failed')).toEqual([]);
    });

    it('librdkafka sends names without a dot as SNI too; Java sends none for them and is refused', { timeout: 120_000 }, async () => {
      const from = sniDotless.logs.length;
      const bootstrap = `${SNI_DOTLESS.bootstrapHost}:${sniDotless.bootstrapPort}`;
      const topic = await freshTopic('tls-sni-dotless');
      const args = [...pythonOAuthArgs(testClientCredentials(issuer, 'svc-writer')), ...propArgs({ 'security.protocol': 'SASL_SSL', 'ssl.ca.location': caFile })];
      const javaArgs = [...javaOAuthArgs(testClientCredentials(issuer, 'svc-writer')), ...propArgs({ 'security.protocol': 'SASL_SSL', ...javaTrust(caFile), 'default.api.timeout.ms': '8000', 'request.timeout.ms': '4000' })];
      const [java, [described, produced]] = await Promise.all([
        rejection(runJavaClient(['describe', bootstrap, ...javaArgs], { jvmFlags: [`-Djdk.net.hosts.file=${hostsFile}`], timeoutMs: 60_000 })),
        (async () => [
          await runPythonClient<DescribeResult>(['describe', bootstrap, ...args], { launcher }),
          await runPythonClient<ProduceResult>(['produce', bootstrap, topic, String(COUNT), ...args], { launcher }),
        ] as const)(),
      ]);
      // Java sends no server name for a dotless host: the proxy refuses each connection and says why; the client only times out.
      expect(java).toMatchObject({ type: 'org.apache.kafka.common.errors.TimeoutException', error: 'Timed out waiting for a node assignment. Call: listNodes' });
      const expected = sniAddresses(sniDotless, SNI_DOTLESS);
      expect(described.nodes).toEqual(expected);
      expect(described.addresses.filter((a) => !expected.includes(a))).toEqual([]);
      expect(produced).toEqual(roundTrip.produced);
      const seen = served(sniDotless, from, 'interop-python');
      for (const leader of await leadersOf(topic)) expect(seen.has(leader), leader).toBe(true);
      const refusals = sniDotless.logs.slice(from).filter((l) => l.msg === 'TLS handshake failed');
      expect(refusals.length).toBeGreaterThan(0);
      // Java may also give up on a connection mid-handshake when its own timeout runs out.
      expect(refusals.map((l) => l.reason)).toContain('no server name (SNI): connect by name to a listener with sni routing');
    });
  });
});

import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../scripts/kafka/ports.js';
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/issuer.js';
import { parseOptions } from '../../src/dev-issuer/main.js';
import { createLogger } from '../../src/observe/logger.js';
import { metricValue, type ProxyCli, startProxyCli } from './helpers/proxy-cli.js';
import { createTopic } from './helpers/topics.js';

// docker-compose.yml's proxy config, policy, access key and issuer clients, run natively against
// the test cluster: only what Docker would provide differs (the broker's and the issuer's
// addresses, free ports on loopback, a temporary recording directory).
const repo = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(join(repo, 'docker-compose.yml'), 'utf8'));
const proxyMounts = new Map<string, string>(
  (compose.services.proxy.volumes as string[]).filter((v) => v.startsWith('./')).map((v) => [v.split(':')[1], join(repo, v.split(':')[0])]),
);
const issuerOptions = parseOptions(compose.services['dev-issuer'].command.slice(1));
const id = randomUUID().slice(0, 8);

async function clientCredentialsToken(tokenUrl: string, clientId: string, secret: string): Promise<string> {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('the docker-compose stack, natively: its proxy config against a real Kafka', () => {
  let issuer: DevIssuer;
  let cli: ProxyCli;
  let config: any;
  let recording: string;
  let adminToken: string;
  const bootstrap = (listener: string) => `localhost:${config.listeners.find((l: any) => l.name === listener).port}`;

  beforeAll(async () => {
    if (issuerOptions === 'help') throw new Error('the compose issuer command asks for help');
    // The issuer the compose file runs, with its clients and iss, on a free port.
    issuer = await startDevIssuer({ ...issuerOptions, port: 0, host: '127.0.0.1', log: createLogger('silent') });
    const dir = mkdtempSync(join(tmpdir(), 'kap-compose-stack-'));
    recording = join(dir, 'recording');
    config = parse(readFileSync(proxyMounts.get('/etc/kafka-auth-proxy/proxy.yaml')!, 'utf8'));
    const kafka = inject('kafka');
    const nodeIds = kafka.brokers.map((b) => b.nodeId);
    const [plainPort, saslPort, adminPort] = await pickFreePorts(3);
    const ports: Record<string, [number, number]> = { plaintext: [plainPort, await pickFreePortBase(nodeIds)], sasl: [saslPort, await pickFreePortBase(nodeIds)] };
    config.upstream.bootstrapServers = kafka.bootstrapServers;
    for (const l of config.listeners) {
      l.bind = '127.0.0.1';
      [l.port, l.brokerPorts.base] = ports[l.name];
    }
    expect(config.oauthbearer.issuer).toBe(issuer.issuer);
    config.oauthbearer.jwksUrl = issuer.jwksUrl;
    const local = (path: string) => {
      const copy = join(dir, path.split('/').pop()!);
      copyFileSync(proxyMounts.get(path)!, copy);
      return copy;
    };
    config.authorization.policyFile = local(config.authorization.policyFile);
    config.awsMskIam.credentialsFile = local(config.awsMskIam.credentialsFile);
    config.admin.tokenFile = local(config.admin.tokenFile);
    adminToken = readFileSync(config.admin.tokenFile, 'utf8').trim();
    config.admin.bind = '127.0.0.1';
    config.admin.port = adminPort;
    config.accessRecording.directory = recording;
    config.workers = 1;
    const file = join(dir, 'proxy.yaml');
    writeFileSync(file, stringify(config));
    await createTopic({ topic: 'orders', numPartitions: 1, replicationFactor: 3 }).catch(() => undefined);
    await createTopic({ topic: `not-orders-${id}`, numPartitions: 1, replicationFactor: 3 });
    cli = startProxyCli(file);
    const exitedEarly = cli.exited.then((code) => {
      throw new Error(`the proxy exited (${code}) before it was ready:\n${cli.stderr.join('\n')}`);
    });
    await Promise.race([cli.waitFor((l) => l.msg === 'workers ready', { timeoutMs: 90_000 }), exitedEarly]);
  }, 180_000);

  afterAll(async () => {
    cli?.signal('SIGTERM');
    await cli?.exited;
    await issuer?.stop();
  });

  it('lets a client not yet migrated produce on the plaintext listener, and records it', async () => {
    const producer = new Kafka({ clientId: `legacy-app-${id}`, brokers: [bootstrap('plaintext')], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: `not-orders-${id}`, messages: [{ value: 'legacy' }] });
    await producer.disconnect();
  });

  it('lets the issuer\'s svc-orders client write orders with a client-credentials token, and nothing else', async () => {
    const [clientId, client] = Object.entries(issuerOptions === 'help' ? {} : issuerOptions.clients ?? {}).find(([, c]) => c.roles.includes('orders-writer'))!;
    const sasl: KafkaConfig['sasl'] = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await clientCredentialsToken(issuer.tokenUrl, clientId, client.secret) }) };
    const producer = new Kafka({ brokers: [bootstrap('sasl')], logLevel: logLevel.NOTHING, sasl }).producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: [{ value: `order-${id}` }] });
    await expect(producer.send({ topic: `not-orders-${id}`, messages: [{ value: 'x' }] })).rejects.toThrow(/authoriz/i);
    await producer.disconnect();
  });

  it('lets the access key in aws-credentials.yaml read orders over AWS_MSK_IAM signer tokens', async () => {
    const credentials = parse(readFileSync(config.awsMskIam.credentialsFile, 'utf8')).accessKeys;
    const [accessKeyId, key] = Object.entries(credentials)[0] as [string, { secretAccessKey: string }];
    const consumer = new Kafka({
      brokers: [bootstrap('sasl')],
      logLevel: logLevel.NOTHING,
      sasl: {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: (await generateAuthTokenFromCredentialsProvider({ region: config.awsMskIam.region, awsCredentialsProvider: async () => ({ accessKeyId, secretAccessKey: key.secretAccessKey }) })).token }),
      },
    }).consumer({ groupId: `orders-compose-${id}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const seen = new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) }));
    expect(await seen).toMatch(/^order-/);
    await consumer.disconnect();
  });

  it('serves metrics to the token Prometheus is given, and to nobody else', async () => {
    const url = `http://127.0.0.1:${config.admin.port}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(200);
    expect(metricValue(await res.text(), 'kafka_proxy_workers{state="ready"}')).toBe(1);
  });

  it('writes the plaintext client into the recording when it stops', async () => {
    cli.signal('SIGTERM');
    expect(await cli.exited).toBe(0);
    const files = readdirSync(recording).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const text = files.map((f) => readFileSync(join(recording, f), 'utf8')).join('\n');
    expect(text).toContain(`legacy-app-${id}`);
    expect(text).toContain(`not-orders-${id}`);
  });
});

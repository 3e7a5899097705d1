import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../scripts/kafka/ports.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import type { SaslAuthenticateResponse } from '../../src/protocol/generated/messages/SaslAuthenticateResponse.js';
import type { SaslHandshakeResponse } from '../../src/protocol/generated/messages/SaslHandshakeResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { tlsHandshake } from '../support/tls-handshake.js';
import { loopbackServer, makeCa, writePem } from '../support/certificates.js';
import { amzDate } from '../support/amz-date.js';
import { bytes, mskIamPayload } from '../support/aws-sign.js';
import { type ProxyCli, metricValue, scrape, startProxyCli } from './helpers/proxy-cli.js';
import { createTopic } from './helpers/topics.js';

const REGION = 'us-east-1';
const KEY = 'AKIAWORKERSTEST0001';
const SECRET = 'workers-test-secret-0001/abcdefghij';
const NEW_KEY = 'AKIAWORKERSTEST0002';
const NEW_SECRET = 'workers-test-secret-0002/abcdefghij';
/** Connections opened per check: enough that round-robin hands some to each of the two workers. */
const CONNECTIONS = 8;

const policy = (anonymousMayDescribe: boolean) =>
  stringify({
    roles: { describer: [{ topics: ['wk-*'], operations: ['describe'] }] },
    bindings: { ...(anonymousMayDescribe ? { ANONYMOUS: ['describer'] } : {}), 'User:alice': ['describer'] },
  });

const credentials = (keys: Array<[string, string]>) =>
  stringify({ accessKeys: Object.fromEntries(keys.map(([key, secret]) => [key, { secretAccessKey: secret, principal: 'User:alice' }])) });

async function metadataError(conn: KafkaConnection, topic: string): Promise<number> {
  const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name: topic }] });
  return md.body.topics[0].errorCode;
}

async function iamConnection(port: number, key: string, secret: string): Promise<KafkaConnection> {
  const conn = await KafkaConnection.connect('127.0.0.1', port);
  const hs = await conn.request<SaslHandshakeResponse>(API_KEYS.SaslHandshake, 1, { mechanism: 'AWS_MSK_IAM' });
  expect(hs.body.errorCode).toBe(0);
  const payload = mskIamPayload({ accessKeyId: key, secret, date: amzDate(), host: '127.0.0.1', region: REGION });
  const auth = await conn.request<SaslAuthenticateResponse>(API_KEYS.SaslAuthenticate, 2, { authBytes: bytes(payload) });
  expect(auth.body.errorCode).toBe(0);
  return conn;
}

type Config = Record<string, unknown>;

/** `config` with the listener called `name` changed by `change`, the others as they are. */
const withListener = (config: Config, name: string, change: (l: Config) => Config): Config => ({
  ...config,
  listeners: (config.listeners as Config[]).map((l) => (l.name === name ? change(l) : l)),
});

const closed = (conn: KafkaConnection) => expect.poll(() => conn.closedReason, { timeout: 15_000 }).toBeDefined();

describe('workers: a supervisor and two worker processes behind every listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'workers-'));
  const configFile = join(dir, 'proxy.yaml');
  const policyFile = join(dir, 'policy.yaml');
  const credentialsFile = join(dir, 'credentials.yaml');
  const topic = `wk-${randomUUID()}`;
  let cli: ProxyCli;
  let plainPort: number;
  let iamPort: number;
  let extraPort: number;
  let adminPort: number;
  let securePort: number;
  let extraBase: number;
  let config: Config;
  let ca: string;
  /** A TLS session ticket from the first generation of workers, to resume on the next. */
  let ticket: Buffer | undefined;
  const plain: KafkaConnection[] = [];

  const writeConfig = (changes: (c: Config) => Config = (c) => c) => writeFileSync(configFile, stringify(changes(config)));
  const listener = (name: string, port: number, base: number, authentication: unknown) => ({
    name,
    bind: '127.0.0.1',
    port,
    advertisedHost: '127.0.0.1',
    brokerPorts: { base },
    authentication,
  });

  beforeAll(async () => {
    const kafka = inject('kafka');
    const nodeIds = kafka.brokers.map((b) => b.nodeId);
    [plainPort, iamPort, extraPort, adminPort, securePort] = await pickFreePorts(5);
    const bases = [];
    for (let i = 0; i < 4; i++) bases.push(await pickFreePortBase(nodeIds));
    const authority = makeCa();
    const certificate = loopbackServer(authority);
    ca = authority.cert;
    const tls = { certFile: writePem('server.pem', certificate.cert), keyFile: writePem('server.key', certificate.key) };
    writeFileSync(policyFile, policy(true));
    writeFileSync(credentialsFile, credentials([[KEY, SECRET]]));
    config = {
      workers: 2,
      upstream: { bootstrapServers: kafka.bootstrapServers, metadataRefreshMs: 60_000 },
      listeners: [
        listener('plain', plainPort, bases[0], 'none'),
        // Recorded too, so the plaintext clients metric sees a client id move here.
        { ...listener('iam', iamPort, bases[1], ['AWS_MSK_IAM']), recordAccess: true },
        { ...listener('secure', securePort, bases[3], 'none'), tls },
      ],
      accessRecording: { directory: join(dir, 'recording'), intervalSeconds: 3600 },
      awsMskIam: { region: REGION, credentialsFile },
      authorization: { policyFile },
      limits: { shutdownGraceMs: 2000 },
      admin: { bind: '127.0.0.1', port: adminPort },
    };
    // For the restart test, where a third listener appears.
    extraBase = bases[2];
    writeConfig();
    await createTopic({ topic, numPartitions: 1, replicationFactor: kafka.brokers.length });
    cli = startProxyCli(configFile);
    await cli.waitFor((l) => l.msg === 'workers ready');
  });

  afterAll(async () => {
    for (const c of plain) c.close();
    cli?.signal('SIGKILL');
  });

  it('hands connections to both workers, and the proxy-wide metrics are the sum of the workers\'', async () => {
    expect(cli.readyWorkers().size).toBe(2);
    for (let i = 0; i < CONNECTIONS; i++) plain.push(await KafkaConnection.connect('127.0.0.1', plainPort));
    for (const c of plain) expect(await metadataError(c, topic)).toBe(0);
    const series = 'kafka_proxy_connections_accepted_total{listener="plain"}';
    const perWorker = await Promise.all([...cli.readyWorkers().keys()].map(async (id) => metricValue(await scrape(adminPort, id), series)));
    expect(perWorker.every((n) => n > 0)).toBe(true);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(CONNECTIONS);
    expect(metricValue(await scrape(adminPort), series)).toBe(CONNECTIONS);
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_workers{state="ready"}')).toBe(2);
  });

  it('counts a plaintext client once however many workers it reached, and no longer once its client id authenticates', async () => {
    // The connections above: one client id from one address, on both workers. Workers report every 5 s.
    const plaintextClients = async (worker?: number) => /^kafka_proxy_plaintext_clients (\d+)$/m.exec(await scrape(adminPort, worker))?.[1];
    await expect.poll(() => plaintextClients(), { timeout: 15_000, interval: 500 }).toBe('1');
    for (const id of cli.readyWorkers().keys()) expect(await plaintextClients(id)).toBe('1');
    const moved = await iamConnection(iamPort, KEY, SECRET);
    expect(await metadataError(moved, topic)).toBe(0);
    await expect.poll(() => plaintextClients(), { timeout: 15_000, interval: 500 }).toBe('0');
    moved.close();
  });

  it('TLS sessions resume on either worker: the workers share the session-ticket keys', async () => {
    let session: Buffer | undefined;
    const resumed: boolean[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const handshake = await tlsHandshake(securePort, ca, session);
      resumed.push(handshake.resumed);
      session = handshake.session ?? session;
    }
    expect(resumed).toEqual([false, ...Array(CONNECTIONS - 1).fill(true)]);
    const series = 'kafka_proxy_connections_accepted_total{listener="secure"}';
    for (const id of cli.readyWorkers().keys()) expect(metricValue(await scrape(adminPort, id), series)).toBeGreaterThan(0);
    ticket = session;
  });

  it('a policy reload reaches every worker: live connections on both see the new decision', async () => {
    const from = cli.lines.length;
    writeFileSync(policyFile, policy(false));
    cli.signal('SIGHUP');
    for (const id of cli.readyWorkers().keys()) await cli.waitFor((l) => l.msg === 'policy reloaded' && l.worker === id, { from });
    for (const c of plain) expect(await metadataError(c, topic)).toBe(29);
  });

  it('a listener mode switched in the config applies in place, to live connections on every worker', async () => {
    const withMode = (mode: string) => writeConfig((c) => withListener(c, 'plain', (l) => ({ ...l, mode })));
    const switchTo = async (mode: string) => {
      const from = cli.lines.length;
      withMode(mode);
      cli.signal('SIGHUP');
      await cli.waitFor((l) => l.msg === 'reloaded in place', { from });
      return from;
    };
    let from = await switchTo('audit');
    for (const c of plain) expect(await metadataError(c, topic)).toBe(0);
    expect(cli.lines.slice(from).filter((l) => l.msg === 'audit: request would be denied in enforce mode').length).toBeGreaterThan(0);
    from = await switchTo('allow-all');
    for (const c of plain) expect(await metadataError(c, topic)).toBe(0);
    expect(cli.lines.slice(from).some((l) => l.msg.includes('denied'))).toBe(false);
    await switchTo('enforce');
    for (const c of plain) expect(await metadataError(c, topic)).toBe(29);
    writeConfig();
  });

  it('a credentials reload reaches every worker: a removed key ends sessions on both, a new key works on both', async () => {
    const sessions = [];
    for (let i = 0; i < 4; i++) sessions.push(await iamConnection(iamPort, KEY, SECRET));
    const open = 'kafka_proxy_open_connections{listener="iam",state="authenticated"}';
    for (const id of cli.readyWorkers().keys()) expect(metricValue(await scrape(adminPort, id), open)).toBeGreaterThan(0);

    const from = cli.lines.length;
    writeFileSync(credentialsFile, credentials([[NEW_KEY, NEW_SECRET]]));
    cli.signal('SIGHUP');
    for (const id of cli.readyWorkers().keys()) await cli.waitFor((l) => l.msg === 'AWS credentials reloaded' && l.worker === id, { from });
    // A session whose key is gone ends at its next request.
    for (const c of sessions) await expect(metadataError(c, topic)).rejects.toThrow(/closed/);
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_sessions_revoked_total{listener="iam",reason="credential-removed"}')).toBe(4);

    const fresh = [];
    for (let i = 0; i < 4; i++) fresh.push(await iamConnection(iamPort, NEW_KEY, NEW_SECRET));
    for (const id of cli.readyWorkers().keys()) expect(metricValue(await scrape(adminPort, id), open)).toBeGreaterThan(0);
    for (const c of fresh) c.close();
  });

  it('a limit changed in the config applies in place, to each worker\'s share', async () => {
    const from = cli.lines.length;
    // Each worker holds CONNECTIONS / 2 plain connections from 127.0.0.1; its share of 2 is 1.
    writeConfig((c) => withListener(c, 'plain', (l) => ({ ...l, limits: { maxConnectionsPerIp: 2 } })));
    cli.signal('SIGHUP');
    await cli.waitFor((l) => l.msg === 'reloaded in place', { from });
    const refused = await KafkaConnection.connect('127.0.0.1', plainPort);
    await closed(refused);
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_connections_refused_total{listener="plain",reason="per-ip"}')).toBe(1);
    // Live connections are not cut by the lower limit.
    for (const c of plain) expect(await metadataError(c, topic)).toBe(29);
    const reverted = cli.lines.length;
    writeConfig();
    cli.signal('SIGHUP');
    await cli.waitFor((l) => l.msg === 'reloaded in place', { from: reverted });
  });

  it('a worker that dies is replaced at once; only its own connections are lost, and it is logged and counted', async () => {
    const [victim, pid] = [...cli.readyWorkers()][0];
    const from = cli.lines.length;
    process.kill(pid, 'SIGKILL');
    const crashed = await cli.waitFor((l) => l.msg === 'worker crashed' && l.worker === victim, { from });
    expect(crashed).toMatchObject({ level: 'error', signal: 'SIGKILL' });
    await cli.waitFor((l) => l.msg === 'worker ready' && l.worker !== victim, { from });
    const answers = await Promise.allSettled(plain.map((c) => metadataError(c, topic)));
    const survived = answers.filter((a) => a.status === 'fulfilled');
    expect(survived.length).toBeGreaterThan(0);
    expect(survived.length).toBeLessThan(CONNECTIONS);
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_worker_crashes_total')).toBe(1);
    expect(cli.readyWorkers().size).toBe(2);
    // Counters of the dead worker were kept from its last report: the total does not go back.
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_connections_accepted_total{listener="plain"}')).toBeGreaterThanOrEqual(CONNECTIONS);

    // A second crash within the minute is a loop in the making: its replacement waits.
    const [again, againPid] = [...cli.readyWorkers()][0];
    const second = cli.lines.length;
    process.kill(againPid, 'SIGKILL');
    expect(await cli.waitFor((l) => l.msg === 'worker crashed' && l.worker === again, { from: second })).toMatchObject({ recentCrashes: 2, replacingInMs: 1000 });
    await cli.waitFor((l) => l.msg === 'worker ready' && l.worker !== again, { from: second });
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_worker_crashes_total')).toBe(2);
    expect(cli.readyWorkers().size).toBe(2);
  });

  it('a config change that needs new sockets restarts the workers without a gap, and the new port serves', async () => {
    const from = cli.lines.length;
    config = { ...config, listeners: [...(config.listeners as unknown[]), listener('extra', extraPort, extraBase, 'none')] };
    writeConfig();
    cli.signal('SIGHUP');
    const restart = await cli.waitFor((l) => l.msg === 'restart complete', { from });
    expect(cli.lines.slice(from).find((l) => l.msg === 'the config changes need new workers')).toMatchObject({ changes: ['listeners[+extra]'] });
    const conn = await KafkaConnection.connect('127.0.0.1', extraPort);
    expect(await metadataError(conn, topic)).toBe(29);
    conn.close();
    // The old workers drained: their connections were closed for the clients to reconnect.
    for (const c of plain) await closed(c);
    expect(cli.readyWorkers().size).toBe(2);
    expect(restart.generation).toBe(2);
    // The supervisor hands every generation the same ticket secret: a ticket from before still resumes.
    expect(ticket).toBeDefined();
    expect((await tlsHandshake(securePort, ca, ticket)).resumed).toBe(true);
  });

  it('a broken config on SIGHUP is refused and the proxy carries on', async () => {
    const from = cli.lines.length;
    writeFileSync(configFile, 'listeners: [not, a, listener]\n');
    cli.signal('SIGHUP');
    const refused = await cli.waitFor((l) => l.msg.startsWith('reload refused'), { from });
    expect(refused.level).toBe('error');
    const conn = await KafkaConnection.connect('127.0.0.1', plainPort);
    expect(await metadataError(conn, topic)).toBe(29);
    conn.close();
  });

  it('the admin endpoint moves on reload, and stays where it was when the new port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as { port: number }).port;
    let from = cli.lines.length;
    writeConfig((c) => ({ ...c, admin: { bind: '127.0.0.1', port: takenPort } }));
    cli.signal('SIGHUP');
    expect(await cli.waitFor((l) => l.msg === 'the admin endpoint stays where it was', { from })).toMatchObject({ level: 'error', err: expect.stringContaining('EADDRINUSE') });
    await cli.waitFor((l) => l.msg === 'reloaded in place', { from });
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_workers{state="ready"}')).toBe(2);
    taken.close();

    const [movedPort] = await pickFreePorts(1);
    from = cli.lines.length;
    config = { ...config, admin: { bind: '127.0.0.1', port: movedPort } };
    writeConfig();
    cli.signal('SIGHUP');
    await cli.waitFor((l) => l.msg === 'reloaded in place', { from });
    expect(cli.lines.slice(from).find((l) => l.msg.startsWith('admin server listening'))).toMatchObject({ port: movedPort });
    await expect(scrape(adminPort)).rejects.toThrow();
    adminPort = movedPort;
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_workers{state="ready"}')).toBe(2);
  });

  it('a restart whose new workers cannot start leaves the running ones serving', async () => {
    const from = cli.lines.length;
    const [deadPort] = await pickFreePorts(1);
    writeConfig((c) => ({ ...c, upstream: { bootstrapServers: [`127.0.0.1:${deadPort}`] }, limits: { shutdownGraceMs: 2000, connectTimeoutMs: 1000 } }));
    cli.signal('SIGUSR2');
    await cli.waitFor((l) => l.msg.startsWith('restart failed'), { from });
    expect(cli.readyWorkers().size).toBe(2);
    const conn = await KafkaConnection.connect('127.0.0.1', plainPort);
    expect(await metadataError(conn, topic)).toBe(29);
    conn.close();
    expect(metricValue(await scrape(adminPort), 'kafka_proxy_worker_restarts_total{result="failed"}')).toBe(1);
  });

  it('SIGTERM drains every worker and exits 0', async () => {
    const from = cli.lines.length;
    cli.signal('SIGTERM');
    expect(await cli.exited).toBe(0);
    const after = cli.lines.slice(from).map((l) => l.msg);
    expect(after).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
    expect(cli.stderr).toEqual([]);
  });
});

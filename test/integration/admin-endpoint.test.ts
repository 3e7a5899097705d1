import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../scripts/kafka/ports.js';
import { ZERO_UUID } from '../../src/protocol/codec-support.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { JwksServer } from '../support/jwks-server.js';
import { type ProxyCli, startProxyCli } from './helpers/proxy-cli.js';
import { createTopic } from './helpers/topics.js';

const run = promisify(execFile);
const TOPIC_AUTHORIZATION_FAILED = 29;

/** An admin answer's JSON, loosely typed: the tests check its shape. */
type Json = Record<string, any>;
const json = async (res: Response | Promise<Response>): Promise<Json> => (await (await res).json()) as Json;

async function metadataError(conn: KafkaConnection, topic: string): Promise<number> {
  const md = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [{ topicId: ZERO_UUID, name: topic }] });
  return md.body.topics[0].errorCode;
}

/** A TCP relay to the first broker that starts listening only when told: a cluster that comes up after the proxy. */
function lateBroker(port: number, broker: { host: string; port: number }): { open(): Promise<void>; close(): void } {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    open: () =>
      new Promise((resolve) => {
        server = createServer((client) => {
          const upstream = connect(broker.port, broker.host);
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('error', () => {});
            s.on('close', () => (client.destroy(), upstream.destroy(), sockets.delete(s)));
          }
          client.pipe(upstream).pipe(client);
        }).listen(port, '127.0.0.1', () => resolve());
      }),
    close: () => {
      for (const s of sockets) s.destroy();
      server?.close();
    },
  };
}

describe('admin endpoint: probes, status, the live mode switch and reload, behind a token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'admin-'));
  const configFile = join(dir, 'proxy.yaml');
  const policyFile = join(dir, 'policy.yaml');
  const tokenFile = join(dir, 'admin-token');
  const token = randomBytes(24).toString('hex');
  const topic = `adm-${randomUUID()}`;
  const cliPath = join(import.meta.dirname, '../../src/cli.ts');
  let cli: ProxyCli;
  let jwks: JwksServer;
  let broker: ReturnType<typeof lateBroker>;
  let adminUrl: string;
  let plainPort: number;
  let config: Record<string, unknown>;
  const writeConfig = (c: Record<string, unknown>) => writeFileSync(configFile, stringify(c));

  const get = (path: string, withToken = true) => fetch(`${adminUrl}${path}`, { headers: withToken ? { authorization: `Bearer ${token}` } : {} });
  const post = (path: string, body: object) =>
    fetch(`${adminUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const adminCli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', cliPath, 'admin', ...args, '--config', configFile]);

  beforeAll(async () => {
    const kafka = inject('kafka');
    const nodeIds = kafka.brokers.map((b) => b.nodeId);
    const [relayPort, adminPort, oauthPort] = await pickFreePorts(3);
    [plainPort] = await pickFreePorts(1);
    const [plainBase, oauthBase] = [await pickFreePortBase(nodeIds), await pickFreePortBase(nodeIds)];
    broker = lateBroker(relayPort, kafka.brokers[0]);
    const { publicKey } = await generateKeyPair('RS256');
    jwks = await JwksServer.start([{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }]);
    jwks.failing = true;
    writeFileSync(policyFile, stringify({ roles: { reader: [{ topics: ['adm-*'], operations: ['describe'] }] }, bindings: { 'User:alice': ['reader'] } }));
    writeFileSync(tokenFile, `${token}\n`);
    config = {
      workers: 2,
      upstream: { bootstrapServers: [`127.0.0.1:${relayPort}`], metadataRefreshMs: 60_000 },
      listeners: [
        { name: 'plain', bind: '127.0.0.1', port: plainPort, advertisedHost: '127.0.0.1', brokerPorts: { base: plainBase }, authentication: 'none', mode: 'enforce' },
        { name: 'oauth', bind: '127.0.0.1', port: oauthPort, advertisedHost: '127.0.0.1', brokerPorts: { base: oauthBase }, authentication: ['OAUTHBEARER'] },
      ],
      oauthbearer: { jwksUrl: jwks.url, issuer: 'https://issuer.test', audience: ['kafka'] },
      authorization: { policyFile },
      limits: { shutdownGraceMs: 1000, connectTimeoutMs: 1000 },
      admin: { bind: '0.0.0.0', port: adminPort, tokenFile },
    };
    writeConfig(config);
    adminUrl = `http://127.0.0.1:${adminPort}`;
    await createTopic({ topic, numPartitions: 1, replicationFactor: kafka.brokers.length });
    cli = startProxyCli(configFile);
    await cli.waitFor((l) => l.msg.startsWith('admin server listening'));
  });

  afterAll(async () => {
    cli?.signal('SIGKILL');
    broker?.close();
    await jwks?.close();
  });

  it('is alive at once, and ready only once a broker answered and the JWKS is loaded', async () => {
    expect((await get('/healthz', false)).status).toBe(200);
    const waiting = await get('/readyz', false);
    expect(waiting.status).toBe(503);
    expect(await waiting.text()).toContain('no worker accepts connections yet');
    await cli.waitFor((l) => l.msg === 'no bootstrap server answers yet; not ready, retrying');

    await broker.open();
    await cli.waitFor((l) => l.msg === 'workers ready', { timeoutMs: 60_000 });
    const noKeys = await get('/readyz', false);
    expect(noKeys.status).toBe(503);
    expect(await noKeys.text()).toContain('the JWKS has not been loaded');

    jwks.failing = false;
    await expect.poll(async () => (await get('/readyz', false)).status, { timeout: 30_000, interval: 250 }).toBe(200);
  });

  it('refuses everything but the probes without the token, since it listens beyond loopback', async () => {
    for (const path of ['/status', '/metrics']) {
      expect((await get(path, false)).status).toBe(401);
      const wrong = await fetch(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${token}x` } });
      expect(wrong.status).toBe(401);
    }
    const unauthenticatedSwitch = await fetch(`${adminUrl}/listeners/plain/mode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mode":"allow-all"}' });
    expect(unauthenticatedSwitch.status).toBe(401);
    expect((await get('/metrics')).status).toBe(200);
  });

  it('/status shows the listeners, the policy hash, the JWKS and the brokers', async () => {
    const status = await json(get('/status'));
    expect(status).toMatchObject({
      ready: true,
      generation: 1,
      listeners: [
        { name: 'plain', mode: 'enforce', authentication: [], port: plainPort },
        { name: 'oauth', mode: 'enforce', authentication: ['OAUTHBEARER'] },
      ],
      policy: { file: policyFile, hash: createHash('sha256').update(readFileSync(policyFile)).digest('hex'), roles: 1, bindings: 1 },
      jwks: { keyIds: ['k1'], fresh: true },
    });
    expect(status.workers.filter((w: { state: string }) => w.state === 'ready')).toHaveLength(2);
    expect(status.brokers.map((b: { nodeId: number }) => b.nodeId)).toEqual(inject('kafka').brokers.map((b) => b.nodeId).sort((a, b) => a - b));
    const { stdout } = await adminCli('status');
    expect(stdout).toContain('listener plain');
    expect(stdout).toContain('mode enforce');
    expect(stdout).toContain('jwks');
  });

  it('switches a listener to allow-all live: a denied connection gets through on its next request, and back', async () => {
    const conns = [];
    for (let i = 0; i < 4; i++) conns.push(await KafkaConnection.connect('127.0.0.1', plainPort));
    for (const c of conns) expect(await metadataError(c, topic)).toBe(TOPIC_AUTHORIZATION_FAILED);

    const from = cli.lines.length;
    const { stdout } = await adminCli('mode', 'plain', 'allow-all');
    expect(stdout).toContain('listener plain: mode allow-all on 2 workers');
    const line = await cli.waitFor((l) => l.msg === 'listener mode switched through the admin endpoint', { from });
    expect(line).toMatchObject({ level: 'warn', listener: 'plain', from: 'enforce', to: 'allow-all', override: true });
    expect(String(line.by)).toContain('kafka-auth-proxy admin');
    // The same connections, on both workers, without reconnecting.
    for (const c of conns) expect(await metadataError(c, topic)).toBe(0);
    expect((await json(get('/status'))).listeners[0]).toMatchObject({ mode: 'allow-all', override: { configuredMode: 'enforce' } });

    // A reload of an unchanged config keeps the switch: an unrelated SIGHUP must not undo an emergency.
    const reloaded = await post('/reload', { by: 'test' });
    expect(reloaded.status).toBe(200);
    expect(await json(reloaded)).toMatchObject({ result: 'in-place', workers: 2 });
    for (const c of conns) expect(await metadataError(c, topic)).toBe(0);

    const back = await post('/listeners/plain/mode', { mode: 'enforce', by: 'test' });
    expect(await json(back)).toMatchObject({ mode: 'enforce', override: false, workers: 2 });
    for (const c of conns) expect(await metadataError(c, topic)).toBe(TOPIC_AUTHORIZATION_FAILED);
    for (const c of conns) c.close();
  });

  it('a config file that changes the listener\'s mode ends a live switch', async () => {
    expect((await post('/listeners/plain/mode', { mode: 'allow-all' })).status).toBe(200);
    const from = cli.lines.length;
    writeConfig({ ...config, listeners: (config.listeners as Array<Record<string, unknown>>).map((l) => (l.name === 'plain' ? { ...l, mode: 'audit' } : l)) });
    expect(await json(post('/reload', {}))).toMatchObject({ result: 'in-place' });
    expect(await cli.waitFor((l) => l.msg === 'the admin mode override of this listener ends', { from })).toMatchObject({ listener: 'plain', reason: 'the config file now sets mode audit' });
    const listener = (await json(get('/status'))).listeners[0];
    expect(listener.mode).toBe('audit');
    expect(listener.override).toBeUndefined();
    writeConfig(config);
    expect(await json(post('/reload', {}))).toMatchObject({ result: 'in-place' });
  });

  it('answers bad calls with a clear error and changes nothing', async () => {
    expect((await post('/listeners/nope/mode', { mode: 'audit' })).status).toBe(404);
    const badMode = await post('/listeners/plain/mode', { mode: 'off' });
    expect(badMode.status).toBe(400);
    expect(await json(badMode)).toEqual({ error: 'mode must be one of enforce, audit, allow-all' });
    const noJson = await fetch(`${adminUrl}/listeners/plain/mode`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: '{"mode":"allow-all"}' });
    expect(noJson.status).toBe(415);
    writeFileSync(configFile, 'listeners: nonsense\n');
    const refused = await post('/reload', {});
    expect(refused.status).toBe(422);
    expect((await json(refused)).problems.length).toBeGreaterThan(0);
    writeConfig(config);
    expect((await json(get('/status'))).listeners[0].mode).toBe('enforce');
    await expect(adminCli('mode', 'plain', 'off')).rejects.toMatchObject({ stderr: expect.stringContaining('mode must be one of') });
  });
});

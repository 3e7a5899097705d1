import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { type TestProxy, startTestProxy } from './helpers/proxy.js';

/** Sends raw bytes and resolves when the proxy closes the connection (or after `waitMs`). */
function sendAndAwaitClose(port: number, bytes: Buffer, opts: { end?: boolean; waitMs?: number } = {}): Promise<{ closedByProxy: boolean; received: number }> {
  return new Promise((resolve) => {
    let received = 0;
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(bytes);
      if (opts.end) socket.end();
    });
    socket.on('data', (d) => (received += d.length));
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closedByProxy: false, received });
    }, opts.waitMs ?? 5000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closedByProxy: true, received });
    });
  });
}

describe('bad input never takes the proxy down', () => {
  let tp: TestProxy;
  let admin: ReturnType<Kafka['admin']>;

  beforeAll(async () => {
    tp = await startTestProxy();
    admin = new Kafka({ clientId: 'bad-input-witness', brokers: [tp.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await tp?.stop();
  });

  async function proxyStillServes(): Promise<void> {
    expect((await admin.describeCluster()).brokers.length).toBe(3);
  }

  const warnings = (msg: string) => tp.logs.filter((l) => l.msg === msg);

  it('garbage bytes: closed, logged, and everyone else carries on', async () => {
    const before = warnings('malformed request; closing the connection').length;
    const http = await sendAndAwaitClose(tp.bootstrapPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(http).toEqual({ closedByProxy: true, received: 0 });
    for (let i = 0; i < 5; i++) {
      const noise = randomBytes(256);
      noise.writeInt32BE(-1 - i, 0);
      expect((await sendAndAwaitClose(tp.bootstrapPort, noise)).closedByProxy).toBe(true);
    }
    expect(warnings('malformed request; closing the connection').length - before).toBe(6);
    await proxyStillServes();
  });

  it('a 2 GiB size prefix is refused at once, without allocating it', async () => {
    const rssBefore = process.memoryUsage().rss;
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(0x7fffffff, 0);
    const result = await sendAndAwaitClose(tp.bootstrapPort, Buffer.concat([prefix, randomBytes(1024)]));
    expect(result.closedByProxy).toBe(true);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(tp.logs.some((l) => typeof l.err === 'string' && l.err.includes('exceeds the limit of 104857600'))).toBe(true);
    await proxyStillServes();
  });

  it('a truncated frame followed by a hang-up leaves no connection behind', async () => {
    const listener = tp.proxy.listeners[0];
    const baseline = listener.connectionCount;
    const frame = Buffer.alloc(4 + 20);
    frame.writeInt32BE(100, 0);
    await sendAndAwaitClose(tp.bootstrapPort, frame, { end: true });
    await expect.poll(() => listener.connectionCount, { timeout: 5000 }).toBe(baseline);
    await proxyStillServes();
  });

  it('an unknown API key, an unknown version and an inter-broker API each close the connection', async () => {
    for (const [apiKey, version] of [[9999, 0], [API_KEYS.Metadata, 99], [API_KEYS.LeaderAndIsr, 7], [API_KEYS.WriteTxnMarkers, 1]]) {
      const conn = await KafkaConnection.connect('127.0.0.1', tp.bootstrapPort);
      await expect(conn.sendRaw(apiKey, version, Buffer.alloc(8)), `api ${apiKey} v${version}`).rejects.toThrow(/closed/);
      conn.close();
    }
    expect(warnings('request for an API or version the proxy does not offer; closing the connection').map((l) => `${l.api} v${l.version}`)).toEqual(
      expect.arrayContaining(['9999 v0', 'Metadata v99', 'LeaderAndIsr v7', 'WriteTxnMarkers v1']),
    );
    const refused = await tp.proxy.metrics.registry.getSingleMetric('kafka_proxy_requests_refused_total')!.get();
    expect(refused.values.filter((v) => v.labels.reason === 'unsupported-version').map((v) => [v.labels.api, v.value])).toEqual(
      expect.arrayContaining([
        ['unknown', 1],
        ['Metadata', 1],
        ['LeaderAndIsr', 1],
        ['WriteTxnMarkers', 1],
      ]),
    );
    await proxyStillServes();
  });

  it('a frame too short to hold a request header is refused', async () => {
    const tiny = Buffer.from([0, 0, 0, 3, 0, 1, 2]);
    expect((await sendAndAwaitClose(tp.bootstrapPort, tiny)).closedByProxy).toBe(true);
    await proxyStillServes();
  });
});

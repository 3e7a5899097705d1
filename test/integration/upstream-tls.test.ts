import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaCluster, startKafkaCluster } from '../../scripts/kafka/cluster.js';
import { API_KEYS } from '../../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../../src/protocol/generated/messages/MetadataRequest.js';
import type { MetadataResponse } from '../../src/protocol/generated/messages/MetadataResponse.js';
import { KafkaConnection } from '../../src/proxy/kafka-connection.js';
import { type Issued, issue, loopbackServer, makeCa, writePem } from '../support/certificates.js';
import { kafkajsRoundTrip } from './helpers/kafkajs-round-trip.js';
import { type TestProxy, type TestProxyOptions, startTestProxy } from './helpers/proxy.js';

/**
 * upstream.tls: the proxy speaks TLS to brokers whose client listeners are SSL, while its own
 * listener stays plaintext. One broker of its own with several SSL listeners, each with other
 * key material; PLAINTEXT stays the brokers' own listener.
 */
describe('TLS to the brokers (upstream.tls)', () => {
  const ca = makeCa('upstream-tls test CA');
  const otherCa = makeCa('a CA the proxy does not trust');
  const brokerCert = loopbackServer(ca);
  const caFile = writePem('ca.pem', ca.cert);
  const proxyClient = issue(ca, { subject: [['CN', 'kafka-auth-proxy']], usage: 'client' });
  const certFile = writePem('proxy.pem', proxyClient.cert);
  const keyFile = writePem('proxy.key', proxyClient.key);
  const listener = (name: string, cert: Issued, more: Record<string, unknown> = {}) => ({ name, certificateChain: cert.cert, privateKey: cert.key, ...more });

  let cluster: KafkaCluster;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      brokers: 1,
      sslListeners: () => [
        listener('SSL', brokerCert),
        listener('MTLS', brokerCert, { clientAuth: 'required', trustedCertificates: ca.cert }),
        // A certificate from a CA the proxy does not trust.
        listener('FOREIGN', loopbackServer(otherCa)),
        // Trusted, but advertises FOREIGN's port: the proxy discovers through it, then its per-broker connections meet FOREIGN.
        listener('TO_FOREIGN', brokerCert, { advertise: 'FOREIGN' }),
        // Trusted, for a name the proxy does not dial.
        listener('NAMED', issue(ca, { subject: [['CN', 'kafka.example.test']], dnsNames: ['kafka.example.test'] })),
      ],
    });
  });

  afterAll(async () => {
    for (const p of proxies) await p.stop().catch(() => {});
    await cluster?.stop();
  });

  async function proxyFor(listenerName: string, upstreamTls: TestProxyOptions['upstreamTls']): Promise<TestProxy> {
    const proxy = await startTestProxy({ bootstrapServers: cluster.sslBootstrapServers[listenerName], upstreamTls });
    proxies.push(proxy);
    return proxy;
  }

  function startFailure(listenerName: string, upstreamTls: TestProxyOptions['upstreamTls']): Promise<string> {
    return startTestProxy({ bootstrapServers: cluster.sslBootstrapServers[listenerName], upstreamTls }).then(
      async (p) => {
        await p.stop();
        return 'started';
      },
      (e: Error) => e.message,
    );
  }

  const kafkaVia = (proxy: TestProxy, clientId: string) =>
    new Kafka({ clientId, brokers: [proxy.bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 5000, retry: { retries: 2, initialRetryTime: 200 } });

  it('the scripts give each broker the SSL listeners, PLAINTEXT unchanged', () => {
    expect(cluster.bootstrapServers).toEqual([`127.0.0.1:${cluster.brokers[0].port}`]);
    expect(Object.keys(cluster.sslBootstrapServers).sort()).toEqual(['FOREIGN', 'MTLS', 'NAMED', 'SSL', 'TO_FOREIGN']);
    for (const servers of Object.values(cluster.sslBootstrapServers)) expect(servers).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
  });

  it('kafkajs produces and consumes through a plaintext listener to an SSL broker; Metadata names the proxy', async () => {
    const proxy = await proxyFor('SSL', { caFile });
    const kafka = kafkaVia(proxy, 'upstream-tls');
    const topic = `upstream-tls-${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const { brokers } = await admin.describeCluster();
    await admin.disconnect();
    expect(brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: proxy.brokerPorts.get(1) }]);
    await kafkajsRoundTrip(kafka, topic, 20);
    expect(proxy.logs.filter((l) => /TLS|unreachable/.test(l.msg))).toEqual([]);
  });

  it('a broker requiring client certificates takes the proxy with its certificate, refuses it without', async () => {
    const refused = await startFailure('MTLS', { caFile });
    // Kafka (TLS 1.3) refuses a missing client certificate with a bad_certificate alert after the proxy's side of the handshake.
    expect(refused).toMatch(/^no bootstrap server answered \(127\.0\.0\.1:\d+: ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: sslv3 alert bad certificate\)$/);
    const proxy = await proxyFor('MTLS', { caFile, certFile, keyFile });
    await kafkajsRoundTrip(kafkaVia(proxy, 'upstream-mtls'), `upstream-mtls-${randomUUID().slice(0, 8)}`, 10);
  });

  it('a broker certificate from an untrusted CA: no start, and on a running proxy a logged refusal per connection', async () => {
    const refused = await startFailure('FOREIGN', { caFile });
    expect(refused).toMatch(/^no bootstrap server answered \(127\.0\.0\.1:\d+: TLS handshake failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);

    const proxy = await proxyFor('TO_FOREIGN', { caFile });
    const kafka = kafkaVia(proxy, 'upstream-foreign');
    const producer = kafka.producer();
    // The bootstrap port answers (TO_FOREIGN is trusted); the broker port cannot reach a broker it trusts.
    const sent = producer.connect().then(() => producer.send({ topic: `upstream-foreign-${randomUUID().slice(0, 8)}`, messages: [{ value: 'x' }] }));
    await expect(sent).rejects.toThrow();
    await producer.disconnect().catch(() => {});
    const refusals = proxy.logs.filter((l) => l.msg === 'TLS handshake with the broker failed');
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toMatchObject({ level: 'warn', serves: 'broker 1', broker: cluster.sslBootstrapServers.FOREIGN[0] });
    expect(String(refusals[0].reason)).toMatch(/^TLS handshake failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: /);

    // The proxy carries on: its bootstrap port still answers.
    const conn = await KafkaConnection.connect('127.0.0.1', proxy.bootstrapPort);
    try {
      const metadata = await conn.request<MetadataResponse>(API_KEYS.Metadata, 12, { ...defaultMetadataRequest(), topics: [] });
      expect(metadata.body.brokers.map((b) => `${b.host}:${b.port}`)).toEqual([`127.0.0.1:${proxy.brokerPorts.get(1)}`]);
    } finally {
      conn.close();
    }
  });

  it('a certificate for another name: refused by default, accepted with checkServerName: false', async () => {
    const refused = await startFailure('NAMED', { caFile });
    expect(refused).toMatch(/^no bootstrap server answered \(127\.0\.0\.1:\d+: TLS handshake failed: ERR_TLS_CERT_ALTNAME_INVALID/);
    const proxy = await proxyFor('NAMED', { caFile, checkServerName: false });
    await kafkajsRoundTrip(kafkaVia(proxy, 'upstream-named'), `upstream-named-${randomUUID().slice(0, 8)}`, 10);
  });
});

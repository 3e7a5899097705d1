import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOOPBACK } from './ports.js';

export interface NodeSpec {
  nodeId: number;
  /** PLAINTEXT (client) port. */
  port: number;
  controllerPort: number;
  /** Holds this node's config, data and logs. */
  dir: string;
}

/** A plaintext listener besides PLAINTEXT, with the port its clients are told to use. */
export interface ExtraListener {
  name: string;
  port: number;
  advertisedPort: number;
}

/**
 * A TLS listener for clients (security protocol SSL) with its key material inline in
 * server.properties (PEM stores, Kafka 2.7+). The brokers keep talking PLAINTEXT among themselves.
 */
export interface SslListener {
  /** Listener name: upper-case letters, digits and '_'; not PLAINTEXT or CONTROLLER. */
  name: string;
  port: number;
  /** The port clients are told to use (Metadata); `port` in the usual case. */
  advertisedPort: number;
  /** PEM: the broker's certificate first, then any intermediates. */
  certificateChain: string;
  /** PEM private key, unencrypted (PKCS#8 or PKCS#1; Kafka's PEM store takes PKCS#8, so it is written as that). */
  privateKey: string;
  /** PEM CA certificates client certificates are checked against; needed unless clientAuth is none. */
  trustedCertificates?: string;
  /** ssl.client.auth; none by default. */
  clientAuth?: 'none' | 'requested' | 'required';
}

export function nodeFiles(dir: string) {
  return {
    properties: join(dir, 'server.properties'),
    log4j: join(dir, 'log4j.properties'),
    serverLog: join(dir, 'server.log'),
    stdout: join(dir, 'stdout.log'),
    data: join(dir, 'data'),
  };
}

/** Creates the node dir with its server.properties and log4j.properties. */
export async function writeNodeConfig(node: NodeSpec, cluster: NodeSpec[], overrides?: Record<string, string>): Promise<void> {
  const files = nodeFiles(node.dir);
  await mkdir(node.dir, { recursive: true });
  await writeFile(files.properties, serverProperties(node, cluster, overrides));
  await writeFile(files.log4j, log4jProperties(node.dir));
}

/** server.properties for one KRaft combined-mode (broker + controller) node. */
function serverProperties(node: NodeSpec, cluster: NodeSpec[], overrides: Record<string, string> = {}): string {
  const replication = String(Math.min(3, cluster.length));
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(node.nodeId),
    'controller.quorum.voters': cluster.map((n) => `${n.nodeId}@${LOOPBACK}:${n.controllerPort}`).join(','),
    ...listenerProperties(node),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': nodeFiles(node.dir).data,
    'auto.create.topics.enable': 'true',
    // Topics created without a replication factor (auto-created ones, Kafka Streams' internal
    // ones) get a replica on every broker too, so a test that stops a broker leaves every
    // partition a leader.
    'default.replication.factor': replication,
    'offsets.topic.replication.factor': replication,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': '1',
    'min.insync.replicas': '1',
    // The default 50 partitions make the first consumer group join take seconds on 2 cores.
    'offsets.topic.num.partitions': '10',
    'transaction.state.log.num.partitions': '10',
    'group.initial.rebalance.delay.ms': '0',
    // Unfence brokers sooner after (re)start; the default is 2 s.
    'broker.heartbeat.interval.ms': '500',
    ...overrides,
  };
  return Object.entries(props).map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
}

/** The listener entries of server.properties: PLAINTEXT, any extra plaintext listeners, any SSL listeners, CONTROLLER. */
export function listenerProperties(node: NodeSpec, advertisedPort = node.port, extra: ExtraListener[] = [], ssl: SslListener[] = []): Record<string, string> {
  const plaintext = [{ name: 'PLAINTEXT', port: node.port, advertisedPort }, ...extra];
  const client = [...plaintext, ...ssl];
  return {
    listeners: [...client.map((l) => `${l.name}://${LOOPBACK}:${l.port}`), `CONTROLLER://${LOOPBACK}:${node.controllerPort}`].join(','),
    'advertised.listeners': client.map((l) => `${l.name}://${LOOPBACK}:${l.advertisedPort}`).join(','),
    'listener.security.protocol.map': [...plaintext.map((l) => `${l.name}:PLAINTEXT`), ...ssl.map((l) => `${l.name}:SSL`), 'CONTROLLER:PLAINTEXT'].join(','),
    ...Object.assign({}, ...ssl.map(sslListenerProperties)),
  };
}

/**
 * One SSL listener's key material and client-certificate rule, under its listener.name.<name>.
 * prefix so listeners can differ. PEM values are multi-line: each is written as one
 * properties line with its newlines escaped as \n, which java.util.Properties turns back
 * into newlines (Kafka's PEM parser accepts any whitespace between the lines anyway).
 */
function sslListenerProperties(l: SslListener): Record<string, string> {
  if (!/^[A-Z][A-Z0-9_]*$/.test(l.name) || l.name === 'PLAINTEXT' || l.name === 'CONTROLLER') throw new Error(`bad SSL listener name "${l.name}"`);
  const clientAuth = l.clientAuth ?? 'none';
  if (clientAuth !== 'none' && !l.trustedCertificates) throw new Error(`SSL listener ${l.name}: clientAuth ${clientAuth} needs trustedCertificates`);
  const prefix = `listener.name.${l.name.toLowerCase()}.`;
  const key = createPrivateKey(l.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  const props: Record<string, string> = {
    [`${prefix}ssl.keystore.type`]: 'PEM',
    [`${prefix}ssl.keystore.certificate.chain`]: propertiesValue(l.certificateChain),
    [`${prefix}ssl.keystore.key`]: propertiesValue(key),
    [`${prefix}ssl.client.auth`]: clientAuth,
  };
  if (l.trustedCertificates) {
    props[`${prefix}ssl.truststore.type`] = 'PEM';
    props[`${prefix}ssl.truststore.certificates`] = propertiesValue(l.trustedCertificates);
  }
  return props;
}

/** A value for a key=value line of a .properties file: backslashes and line breaks escaped. */
function propertiesValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n');
}

/** log4j 1.x (reload4j) config sending everything to the node's server.log. */
function log4jProperties(dir: string): string {
  return [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${nodeFiles(dir).serverLog}`,
    'log4j.appender.file.Append=true',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // Same as Kafka's shipped config: per-request logging is only useful when debugging.
    'log4j.logger.kafka.request.logger=WARN',
    '',
  ].join('\n');
}

/** A random KRaft cluster id: 16 bytes, base64url, 22 characters. */
export function newClusterId(): string {
  // Same rule as Kafka's Uuid.randomUuid(): a leading '-' would be parsed as a CLI flag.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

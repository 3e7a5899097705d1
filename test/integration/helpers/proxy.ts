import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { z } from 'zod';
import { inject } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../../scripts/kafka/ports.js';
import type { LimitsConfig, ListenerLimitsConfig, ProxyConfig } from '../../../src/config/schema.js';
import { configSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observe/logger.js';
import { KafkaAuthProxy } from '../../../src/proxy/proxy.js';
import { repeatedKeys } from '../../support/log-keys.js';

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface TestProxy {
  proxy: KafkaAuthProxy;
  /** "127.0.0.1:port" of the listener's bootstrap port. */
  bootstrap: string;
  bootstrapPort: number;
  /** Proxy port of each broker node. */
  brokerPorts: Map<number, number>;
  /** Everything the proxy logged, parsed. */
  logs: LogLine[];
  /** The policy file, when one was given: tests rewrite it to see a reload. */
  policyFile: string | undefined;
  /** The config the proxy started with: tests change it and apply it in place. */
  config: ProxyConfig;
  stop(): Promise<void>;
}

/**
 * Starts the proxy in this process in front of the shared cluster, on free loopback ports, with
 * `brokerPorts.base` so broker N is served on base + N. Logs are captured for assertions.
 */
export interface TestProxyOptions {
  limits?: Partial<LimitsConfig>;
  /** The listener's connection limits (listeners[].limits). */
  listenerLimits?: Partial<ListenerLimitsConfig>;
  /** SASL mechanisms the listener requires (or MTLS); none by default. */
  authentication?: 'none' | ('OAUTHBEARER' | 'AWS_MSK_IAM' | 'MTLS')[];
  /** The listener's tls section (certFile and keyFile at least). */
  tls?: Record<string, unknown>;
  /** SNI routing instead of broker ports: one port, these names. */
  sni?: { bootstrapHost: string; brokerHostPattern: string };
  /** Token validation settings; `jwksUrl` and `issuer` usually come from a DevIssuer. */
  oauthbearer?: Partial<NonNullable<ProxyConfig['oauthbearer']>>;
  awsMskIam?: { region: string; credentialsFile: string };
  /** Policy YAML, written to a temp file and set as authorization.policyFile. */
  policy?: string;
  mode?: 'enforce' | 'audit' | 'allow-all';
  /** upstream.bootstrapServers instead of the shared cluster's (a test's own cluster). */
  bootstrapServers?: string[];
  /** upstream.tls: TLS to the brokers. */
  upstreamTls?: NonNullable<z.input<typeof configSchema>['upstream']['tls']>;
  /** accessRecording: the access recorder's directory and settings. */
  accessRecording?: NonNullable<z.input<typeof configSchema>['accessRecording']>;
  /** listeners[].recordAccess. */
  recordAccess?: boolean;
  /** listeners[].modeOverrides. */
  modeOverrides?: Record<string, 'enforce' | 'audit'>;
  /** rolesSource: the permissions service. */
  rolesSource?: NonNullable<z.input<typeof configSchema>['rolesSource']>;
  /** listeners[].rolesOffline. */
  rolesOffline?: 'last-known' | 'deny' | 'audit' | 'allow-all';
}

export async function startTestProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const kafka = inject('kafka');
  const [bootstrapPort] = await pickFreePorts(1);
  const base = await pickFreePortBase(kafka.brokers.map((b) => b.nodeId));
  let policyFile: string | undefined;
  if (options.policy !== undefined) {
    policyFile = join(mkdtempSync(join(tmpdir(), 'kap-policy-')), 'policy.yaml');
    writeFileSync(policyFile, options.policy);
  }
  const config = configSchema.parse({
    upstream: { bootstrapServers: options.bootstrapServers ?? kafka.bootstrapServers, tls: options.upstreamTls },
    listeners: [
      {
        name: 'test',
        bind: '127.0.0.1',
        port: bootstrapPort,
        ...(options.sni ? { sni: options.sni } : { advertisedHost: '127.0.0.1', brokerPorts: { base } }),
        tls: options.tls,
        authentication: options.authentication ?? 'none',
        mode: options.mode,
        limits: options.listenerLimits,
        recordAccess: options.recordAccess,
        modeOverrides: options.modeOverrides,
        rolesOffline: options.rolesOffline,
      },
    ],
    accessRecording: options.accessRecording,
    rolesSource: options.rolesSource,
    oauthbearer: options.oauthbearer ? { audience: ['kafka'], ...options.oauthbearer } : undefined,
    awsMskIam: options.awsMskIam,
    authorization: policyFile ? { policyFile } : undefined,
    limits: options.limits,
    logging: { level: 'debug' },
  });
  const logs: LogLine[] = [];
  const repeated: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        if (repeatedKeys(line).length > 0) repeated.push(line);
        logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const proxy = await KafkaAuthProxy.start(config, createLogger('debug', sink));
  return {
    proxy,
    bootstrap: `127.0.0.1:${bootstrapPort}`,
    bootstrapPort,
    brokerPorts: new Map(kafka.brokers.map((b) => [b.nodeId, base + b.nodeId])),
    logs,
    policyFile,
    config,
    async stop() {
      await proxy.stop(2000);
      // Every test that runs a proxy checks that its log lines never repeat a key.
      if (repeated.length > 0) throw new Error(`log lines with a repeated key:\n${repeated.slice(0, 5).join('\n')}`);
    },
  };
}

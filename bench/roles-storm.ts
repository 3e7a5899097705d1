import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startKafkaCluster } from '../scripts/kafka/cluster.js';
import { LOOPBACK } from '../scripts/kafka/ports.js';
import { startDevIssuer } from '../src/dev-issuer/issuer.js';
import { createLogger } from '../src/observe/logger.js';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { defaultMetadataRequest } from '../src/protocol/generated/messages/MetadataRequest.js';
import type { KafkaConnection } from '../src/proxy/kafka-connection.js';
import { ensureBuilt } from './build-dist.js';
import { type IdleProxy, type StormFigures, measuredStorm, openAuthenticated, startIdleProxy, waitForClosed } from './idle-connections.js';
import { treeOpenFiles } from './process-tree.js';

export interface RolesStormResult {
  connections: number;
  principals: number;
  rounds: number;
  /** Medians over the rounds, each variant measured alternately. */
  off: Omit<StormFigures, 'resumed' | 'protocol'>;
  on: Omit<StormFigures, 'resumed' | 'protocol'>;
  /** Requests the permissions service got during the measured storms (the cache was warm). */
  serviceRequests: number;
}

const PRINCIPALS = 100;

/** A permissions service that gives every principal one role, at once; counts its requests. */
async function rolesService(): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"roles":["reader"]}');
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, r));
  return { server, url: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}/roles`, requests: () => requests };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The connection storm (OAUTHBEARER, each connection then one Metadata request, so a roles lookup
 * is on its path) against two proxies with the same policy, one with a rolesSource whose cache
 * is warm for the storm's 100 principals and one without; alternating rounds.
 */
export async function runRolesStormBench(progress: (line: string) => void, options: { connections?: number; rounds?: number } = {}): Promise<RolesStormResult> {
  const { connections = 5_000, rounds = 3 } = options;
  await ensureBuilt(progress);
  const workDir = await mkdtemp(join(tmpdir(), 'roles-bench-'));
  const cluster = await startKafkaCluster({ brokers: 1, log: progress });
  const issuer = await startDevIssuer({ port: 0, log: createLogger('silent') });
  const service = await rolesService();
  const proxies: IdleProxy[] = [];
  try {
    await writeFile(join(workDir, 'policy.yaml'), stringify({ roles: { reader: [{ topics: ['bench-*'], operations: ['read'] }] } }));
    const sections = { oauthbearer: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: ['kafka'] }, authorization: { policyFile: 'policy.yaml' } };
    const listener = { authentication: ['OAUTHBEARER'] };
    const off = await startIdleProxy(workDir, 'roles-off', cluster.bootstrapServers, connections, 1, listener, sections, progress);
    proxies.push(off);
    const on = await startIdleProxy(workDir, 'roles-on', cluster.bootstrapServers, connections, 1, listener, { ...sections, rolesSource: { url: service.url, ttlSeconds: 3600 } }, progress);
    proxies.push(on);
    const tokens = await Promise.all(Array.from({ length: PRINCIPALS }, (_, i) => issuer.mint({ subject: `svc-bench-${i}`, expiresInSeconds: 3600 })));
    const open = (port: number) => async (i: number): Promise<KafkaConnection> => {
      const conn = await openAuthenticated(port, tokens[i % PRINCIPALS]);
      await conn.request(API_KEYS.Metadata, 9, { ...defaultMetadataRequest(), topics: [] });
      return conn;
    };
    // Warm: every principal once through the proxy with the roles source.
    for (const c of await Promise.all(tokens.map((_, i) => open(on.port)(i)))) c.close();
    const warmRequests = service.requests();
    const figures: Record<'off' | 'on', Omit<StormFigures, 'resumed' | 'protocol'>[]> = { off: [], on: [] };
    for (let round = 1; round <= rounds; round++) {
      for (const [name, proxy] of [['off', off], ['on', on]] as const) {
        const openFiles = treeOpenFiles(proxy.pid);
        const storm = await measuredStorm(proxy.pid, connections, open(proxy.port), progress, `roles source ${name}, round ${round}`);
        figures[name].push(storm.figures);
        progress(`roles: ${name} round ${round}: ${storm.figures.perSecond} connections/s, ${storm.figures.proxyCpuMicrosPerConnection} us proxy CPU each`);
        for (const c of storm.opened) c.close();
        await waitForClosed(proxy.pid, openFiles);
      }
    }
    const summary = (runs: Omit<StormFigures, 'resumed' | 'protocol'>[], name: string) => ({
      name,
      perSecond: median(runs.map((r) => r.perSecond)),
      perProxyCpuSecond: median(runs.map((r) => r.perProxyCpuSecond)),
      proxyCpuMicrosPerConnection: median(runs.map((r) => r.proxyCpuMicrosPerConnection)),
      supervisorCpuMicrosPerConnection: median(runs.map((r) => r.supervisorCpuMicrosPerConnection)),
      clientCpuMicrosPerConnection: median(runs.map((r) => r.clientCpuMicrosPerConnection)),
    });
    return { connections, principals: PRINCIPALS, rounds, off: summary(figures.off, 'roles source off'), on: summary(figures.on, 'roles source on (warm)'), serviceRequests: service.requests() - warmRequests };
  } finally {
    for (const p of proxies) await p.kill();
    service.server.close();
    await issuer.stop();
    await cluster.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

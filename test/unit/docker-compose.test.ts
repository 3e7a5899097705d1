import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/check-config.js';
import { parseOptions } from '../../src/dev-issuer/main.js';

// No Docker engine here: docker-compose.yml is checked against the files it mounts and the proxy
// config it runs, so that what a user starts with `docker compose up` hangs together. The same
// proxy config runs against a native Kafka in test/integration/compose-stack.test.ts.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(join(repo, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string | number>; volumes?: string[]; ports?: string[] }>;
  volumes?: Record<string, unknown>;
};
const service = (name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no ${name} service`);
  return s;
};

/** A service's bind mounts: container path -> file in the repository. */
function mounts(name: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const volume of service(name).volumes ?? []) {
    const [source, target] = volume.split(':');
    if (source.startsWith('./')) found.set(target, join(repo, source));
  }
  return found;
}

/** host port -> container port. */
function published(name: string): Map<number, number> {
  return new Map((service(name).ports ?? []).map((p) => p.split(':').map(Number) as [number, number]));
}

const proxyMounts = mounts('proxy');
const proxyConfigFile = proxyMounts.get('/etc/kafka-auth-proxy/proxy.yaml');
const proxyConfig = parse(readFileSync(proxyConfigFile ?? join(repo, 'missing'), 'utf8')) as any;

describe('docker-compose.yml', () => {
  it('has Kafka 3.9, the issuer, the proxy, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['dev-issuer', 'grafana', 'kafka', 'prometheus', 'proxy']);
    expect(service('kafka').image).toMatch(/^apache\/kafka:3\.9\.\d+$/);
    expect(service('proxy').build).toBe('.');
    expect(proxyConfigFile).toBeDefined();
  });

  it('mounts only files that exist', () => {
    for (const name of Object.keys(compose.services)) {
      for (const [target, source] of mounts(name)) expect(existsSync(source), `${name}: ${source} for ${target}`).toBe(true);
    }
  });

  it('runs a plaintext migration listener and an OAUTHBEARER + AWS_MSK_IAM listener that enforces', () => {
    const byName = Object.fromEntries(proxyConfig.listeners.map((l: any) => [l.name, l]));
    expect(byName.plaintext).toMatchObject({ authentication: 'none', mode: 'audit' });
    expect(byName.sasl).toMatchObject({ authentication: ['OAUTHBEARER', 'AWS_MSK_IAM'], mode: 'enforce' });
    expect(proxyConfig.accessRecording.directory).toMatch(/^\/var\/lib\/kafka-auth-proxy\//);
    expect(service('proxy').volumes).toContain('recording:/var/lib/kafka-auth-proxy');
  });

  it('gives the proxy every file its config names, and the config passes the check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kap-compose-'));
    const config = structuredClone(proxyConfig);
    const local = (containerPath: string) => {
      const source = proxyMounts.get(containerPath);
      expect(source, `${containerPath} is not mounted into the proxy`).toBeDefined();
      const copy = join(dir, containerPath.replaceAll('/', '_'));
      cpSync(source!, copy);
      return copy;
    };
    config.authorization.policyFile = local(config.authorization.policyFile);
    config.awsMskIam.credentialsFile = local(config.awsMskIam.credentialsFile);
    config.admin.tokenFile = local(config.admin.tokenFile);
    config.accessRecording.directory = join(dir, 'recording');
    const file = join(dir, 'proxy.yaml');
    writeFileSync(file, stringify(config));
    expect(checkConfigFile(file).problems).toEqual([]);
  });

  it('publishes each listener port and broker port on the same host port, as advertised', () => {
    const kafkaNodeId = Number(service('kafka').environment!.KAFKA_NODE_ID);
    const ports = published('proxy');
    for (const l of proxyConfig.listeners) {
      expect(l.advertisedHost).toBe('localhost');
      for (const port of [l.port, l.brokerPorts.base + kafkaNodeId]) expect(ports.get(port), `${l.name}: port ${port}`).toBe(port);
    }
    expect(ports.get(proxyConfig.admin.port)).toBe(proxyConfig.admin.port);
    expect(service('kafka').ports, 'the broker must be reachable only through the proxy').toBeUndefined();
  });

  it('points the proxy at the broker and the issuer under their service names', () => {
    const env = service('kafka').environment!;
    expect(String(env.KAFKA_ADVERTISED_LISTENERS)).toBe(`PLAINTEXT://${proxyConfig.upstream.bootstrapServers[0]}`);
    expect(String(env.KAFKA_LISTENERS)).toContain(`PLAINTEXT://0.0.0.0:${proxyConfig.upstream.bootstrapServers[0].split(':')[1]}`);
    const [command, ...args] = service('dev-issuer').command!;
    expect(command).toBe('dev-issuer');
    const issuer = parseOptions(args);
    if (issuer === 'help') throw new Error('the issuer command asks for help');
    expect(issuer.host).toBe('0.0.0.0');
    expect(proxyConfig.oauthbearer.jwksUrl).toBe(`http://dev-issuer:${issuer.port}/jwks.json`);
    expect(proxyConfig.oauthbearer.issuer).toBe(issuer.issuer);
    expect(published('dev-issuer').get(issuer.port ?? 0)).toBe(issuer.port);
    // The policy grants what the issuer's clients carry in their tokens.
    const policy = parse(readFileSync(proxyMounts.get(proxyConfig.authorization.policyFile)!, 'utf8'));
    for (const client of Object.values(issuer.clients ?? {})) for (const role of client.roles) expect(Object.keys(policy.roles)).toContain(role);
  });

  it('has Prometheus scrape the admin endpoint with the proxy\'s own token, and Grafana show the dashboard', () => {
    const prometheusMounts = mounts('prometheus');
    const prometheus = parse(readFileSync(prometheusMounts.get('/etc/prometheus/prometheus.yml')!, 'utf8'));
    const job = prometheus.scrape_configs.find((j: any) => j.job_name === 'kafka-auth-proxy');
    expect(job.static_configs[0].targets).toEqual([`proxy:${proxyConfig.admin.port}`]);
    expect(proxyConfig.admin.bind).toBe('0.0.0.0');
    const tokenFile = prometheusMounts.get(job.authorization.credentials_file);
    expect(readFileSync(tokenFile!, 'utf8')).toBe(readFileSync(proxyMounts.get(proxyConfig.admin.tokenFile)!, 'utf8'));
    const grafanaMounts = mounts('grafana');
    const datasources = parse(readFileSync(grafanaMounts.get('/etc/grafana/provisioning/datasources/kafka-auth-proxy.yaml')!, 'utf8'));
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    const dashboards = parse(readFileSync(grafanaMounts.get('/etc/grafana/provisioning/dashboards/kafka-auth-proxy.yaml')!, 'utf8'));
    const folder = dashboards.providers[0].options.path;
    const dashboard = [...grafanaMounts].find(([target]) => target.startsWith(`${folder}/`));
    expect(dashboard?.[1]).toBe(join(repo, 'deploy/grafana/kafka-auth-proxy-dashboard.json'));
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../src/config/check-config.js';

// The chart in deploy/helm, checked by helm itself (lint --strict, template) and by reading what
// it renders: the probes hit what the admin endpoint serves, the ports are the ones the rendered
// proxy config listens on, and that config passes the proxy's own check.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(repo, 'deploy/helm/kafka-auth-proxy');
const helm = join(repo, '.tools/bin/helm');

type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: any; data?: Record<string, string> };

function render(values: Record<string, unknown> = {}): Manifest[] {
  const file = join(mkdtempSync(join(tmpdir(), 'kap-helm-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  const out = execFileSync(helm, ['template', 'kap', chart, '--namespace', 'kafka', '-f', file], { encoding: 'utf8', timeout: 60_000 });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Manifest)
    .filter(Boolean);
}

const only = (manifests: Manifest[], kind: string, name?: string) => {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0];
};

/** The rendered proxy.yaml with its files where the pod would have them, checked as `check` does. */
function checkRendered(manifests: Manifest[]): { config: any; problems: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'kap-helm-pod-'));
  const configMap = only(manifests, 'ConfigMap');
  const secret = manifests.find((m) => m.kind === 'Secret');
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(configMap.data ?? {})) files[`/etc/kafka-auth-proxy/config/${name}`] = text;
  for (const [name, b64] of Object.entries(secret?.data ?? {})) files[`/etc/kafka-auth-proxy/secrets/${name}`] = Buffer.from(b64, 'base64').toString();
  const local = (path: string) => join(dir, path);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(local(path), '..'), { recursive: true });
    writeFileSync(local(path), text);
  }
  const config = parse(files['/etc/kafka-auth-proxy/config/proxy.yaml']);
  const relocated = structuredClone(config);
  for (const [section, key] of [['authorization', 'policyFile'], ['admin', 'tokenFile'], ['awsMskIam', 'credentialsFile']] as const) {
    if (relocated[section]?.[key]) relocated[section][key] = local(relocated[section][key]);
  }
  const file = join(dir, 'proxy.yaml');
  writeFileSync(file, stringify(relocated));
  return { config, problems: checkConfigFile(file).problems.map((p) => `${p.path}: ${p.message}`) };
}

const THREE_REPLICAS = {
  replicaCount: 3,
  brokerNodeIds: [1, 2, 3],
  serviceMonitor: { enabled: true },
  secrets: { existingSecret: 'kafka-proxy-credentials' },
  service: { type: 'LoadBalancer' },
  config: {
    upstream: { bootstrapServers: ['kafka-1:9092'] },
    listeners: [
      { name: 'plaintext', port: 19092, advertisedHost: 'kafka-proxy.example.com', brokerPorts: { base: 19100 }, authentication: 'none', mode: 'audit' },
      { name: 'sasl', port: 9092, advertisedHost: 'kafka-proxy.example.com', brokerPorts: { map: { '1': 9201, '2': 9202, '3': 9203 } }, authentication: ['AWS_MSK_IAM'], mode: 'enforce' },
    ],
    awsMskIam: { region: 'eu-west-1', credentialsFile: '/etc/kafka-auth-proxy/secrets/aws-credentials.yaml' },
    authorization: { policyFile: '/etc/kafka-auth-proxy/config/policy.yaml' },
    admin: { bind: '0.0.0.0', port: 9500, tokenFile: '/etc/kafka-auth-proxy/secrets/admin-token' },
  },
};

describe('the Helm chart', () => {
  beforeAll(() => {
    // A no-op once built; the first time the script says it builds helm, which takes minutes.
    const run = spawnSync('bash', [join(repo, 'scripts/tools/setup-helm.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0) throw new Error(`scripts/tools/setup-helm.sh failed (exit ${run.status ?? run.signal})`);
  }, 20 * 60_000);

  it('passes helm lint --strict, with the defaults and with three replicas', () => {
    execFileSync(helm, ['lint', '--strict', chart], { encoding: 'utf8', timeout: 60_000 });
    const file = join(mkdtempSync(join(tmpdir(), 'kap-helm-')), 'values.yaml');
    writeFileSync(file, stringify(THREE_REPLICAS));
    execFileSync(helm, ['lint', '--strict', chart, '-f', file], { encoding: 'utf8', timeout: 60_000 });
  });

  it('renders a config the proxy accepts, and probes what the admin endpoint serves', () => {
    const manifests = render();
    const { config, problems } = checkRendered(manifests);
    expect(problems).toEqual([]);
    const container = only(manifests, 'Deployment').spec.template.spec.containers[0];
    expect(container.args).toEqual(['--config', '/etc/kafka-auth-proxy/config/proxy.yaml']);
    const adminPort = container.ports.find((p: { name?: string }) => p.name === 'admin');
    expect(adminPort.containerPort).toBe(config.admin.port);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    // Probes come from the kubelet, on the pod's address: the admin endpoint must listen there.
    expect(config.admin.bind).toBe('0.0.0.0');
  });

  it('opens the bootstrap port and one port per broker on the pods and the Service, as the config listens', () => {
    for (const values of [{}, THREE_REPLICAS]) {
      const manifests = render(values);
      const config = parse(only(manifests, 'ConfigMap').data!['proxy.yaml']);
      const nodeIds = (values as typeof THREE_REPLICAS).brokerNodeIds ?? [0, 1, 2];
      const expected = config.listeners.flatMap((l: any) => [l.port, ...(l.brokerPorts.base !== undefined ? nodeIds.map((id: number) => l.brokerPorts.base + id) : Object.values(l.brokerPorts.map))]);
      const container = only(manifests, 'Deployment').spec.template.spec.containers[0];
      expect(container.ports.map((p: { containerPort: number }) => p.containerPort).sort()).toEqual([...expected, config.admin.port].sort());
      const kafkaService = only(manifests, 'Service', 'kap-kafka-auth-proxy');
      expect(kafkaService.spec.ports.map((p: { port: number; targetPort: number }) => [p.port, p.targetPort])).toEqual(expected.map((p: number) => [p, p]));
      const adminService = only(manifests, 'Service', 'kap-kafka-auth-proxy-admin');
      expect(adminService.spec.ports).toEqual([expect.objectContaining({ port: config.admin.port, targetPort: 'admin' })]);
    }
  });

  it('keeps two of three pods through a disruption, and none is needed for one replica', () => {
    expect(render(THREE_REPLICAS).filter((m) => m.kind === 'PodDisruptionBudget')).toEqual([expect.objectContaining({ spec: expect.objectContaining({ minAvailable: 1 }) })]);
    expect(render({ replicaCount: 1 }).filter((m) => m.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  it('renders a ServiceMonitor only when asked, scraping with the admin token', () => {
    expect(render().filter((m) => m.kind === 'ServiceMonitor')).toEqual([]);
    const monitor = only(render(THREE_REPLICAS), 'ServiceMonitor');
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics', bearerTokenSecret: { name: 'kafka-proxy-credentials', key: 'admin-token' } })]);
  });

  it('mounts a Secret of its own, or the one named, and never both', () => {
    const own = render();
    const secret = only(own, 'Secret');
    expect(Buffer.from(secret.data!['admin-token'], 'base64').toString().length).toBeGreaterThanOrEqual(16);
    expect(only(own, 'Deployment').spec.template.spec.volumes).toContainEqual(expect.objectContaining({ name: 'secrets', secret: expect.objectContaining({ secretName: secret.metadata.name }) }));
    const named = render(THREE_REPLICAS);
    expect(named.filter((m) => m.kind === 'Secret')).toEqual([]);
    expect(only(named, 'Deployment').spec.template.spec.volumes).toContainEqual(expect.objectContaining({ name: 'secrets', secret: expect.objectContaining({ secretName: 'kafka-proxy-credentials' }) }));
  });

  it('rolls the pods when the config or the policy changes, and only then', () => {
    const checksum = (values: Record<string, unknown>) => only(render(values), 'Deployment').spec.template.metadata.annotations['checksum/config'];
    const base = checksum({});
    expect(checksum({})).toBe(base);
    expect(checksum({ policy: 'roles: {}\nbindings: {}\n' })).not.toBe(base);
    expect(checksum({ config: { logging: { level: 'debug' } } })).not.toBe(base);
  });

  it('runs as a non-root user on a read-only root file system, with room to write recordings', () => {
    const pod = only(render(), 'Deployment').spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.containers[0].volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/var/lib/kafka-auth-proxy' }));
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(10_000);
  });
});

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { type Issued, loopbackServer, makeCa } from './certificates.js';

/**
 * The YAML snippets of the README and docs/, sorted by what they are, so a test can check each
 * the way the proxy reads it. A block whose info string says `yaml not-proxy-config` (a
 * Prometheus or Kubernetes file, say) is only parsed.
 */

export const REPO = new URL('../../', import.meta.url);

export type SnippetKind = 'config' | 'config-fragment' | 'policy' | 'aws-credentials' | 'other';

export interface Snippet {
  /** Where: "docs/authentication.md:97". */
  where: string;
  kind: SnippetKind;
  text: string;
}

const POLICY_KEYS = new Set(['roles', 'bindings']);

export function docFiles(): string[] {
  return ['README.md', ...readdirSync(new URL('docs/', REPO)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
}

function kindOf(value: unknown, info: string): SnippetKind {
  if (info.includes('not-proxy-config')) return 'other';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'other';
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k) => POLICY_KEYS.has(k))) return 'policy';
  if (keys.length === 1 && keys[0] === 'accessKeys') return 'aws-credentials';
  if (keys.includes('upstream') && keys.includes('listeners')) return 'config';
  return 'config-fragment';
}

export function snippets(file: string): Snippet[] {
  const text = readFileSync(new URL(file, REPO), 'utf8');
  const found: Snippet[] = [];
  const fence = /^```(ya?ml)([^\n]*)\n([\s\S]*?)^```/gm;
  for (const m of text.matchAll(fence)) {
    const line = text.slice(0, m.index).split('\n').length;
    found.push({ where: `${file}:${line}`, kind: kindOf(parse(m[3]), m[2]), text: m[3] });
  }
  return found;
}

/**
 * A fragment (one section, or listeners alone) sits in a config that has everything else it may
 * lean on: a broker, a plaintext listener, a policy, both SASL sections.
 */
export function completeFragment(fragment: Record<string, unknown>): Record<string, unknown> {
  return {
    upstream: { bootstrapServers: ['127.0.0.1:9092'] },
    listeners: [{ name: 'docs-base', port: 40000, advertisedHost: 'localhost', brokerPorts: { base: 40100 }, authentication: 'none' }],
    oauthbearer: { jwksUrl: 'https://idp.example.com/jwks.json', issuer: 'https://idp.example.com', audience: ['kafka'] },
    awsMskIam: { region: 'us-east-1', credentialsFile: 'aws-credentials.yaml' },
    authorization: { policyFile: 'policy.yaml' },
    ...fragment,
  };
}

const DEFAULT_POLICY = 'roles:\n  reader:\n    - { topics: ["*"], operations: [read] }\n';
const DEFAULT_CREDENTIALS = 'accessKeys: {}\n';

// RSA keys take a while in JavaScript: one CA, and one certificate per key password, for all snippets.
let ca: Issued | undefined;
const certificates = new Map<string, Issued>();
function docsCa(): Issued {
  ca ??= makeCa('docs snippets CA');
  return ca;
}
function certificate(password: string | undefined): Issued {
  const key = password ?? '';
  let issued = certificates.get(key);
  if (!issued) {
    issued = loopbackServer(docsCa(), [], password === undefined ? {} : { keyPassword: password });
    certificates.set(key, issued);
  }
  return issued;
}

/**
 * Writes `config` into `dir` as proxy.yaml with every file it names present and valid (the TLS
 * files as a fresh CA and certificate, encrypted with keyPassword where one is set); absolute
 * paths move under `dir`. Returns the config file's path.
 */
export function writeConfigWithFiles(dir: string, config: Record<string, unknown>): string {
  const place = (path: string): string => (isAbsolute(path) ? join(dir, 'root', path) : join(dir, path));
  const write = (path: string, content: string): string => {
    const target = place(path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    return target;
  };
  const tls = (t: Record<string, unknown> | undefined) => {
    if (!t) return;
    const password = typeof t.keyPassword === 'string' ? t.keyPassword : undefined;
    const issued = certificate(password);
    if (typeof t.certFile === 'string') t.certFile = write(t.certFile, issued.cert);
    if (typeof t.keyFile === 'string') t.keyFile = write(t.keyFile, issued.key);
    if (typeof t.caFile === 'string') t.caFile = write(t.caFile, docsCa().cert);
  };
  const listeners = (config.listeners as Record<string, unknown>[] | undefined) ?? [];
  for (const l of listeners) tls(l.tls as Record<string, unknown> | undefined);
  const upstream = config.upstream as Record<string, unknown> | undefined;
  tls(upstream?.tls as Record<string, unknown> | undefined);
  const authorization = config.authorization as { policyFile?: string } | undefined;
  if (authorization?.policyFile) authorization.policyFile = write(authorization.policyFile, DEFAULT_POLICY);
  const aws = config.awsMskIam as { credentialsFile?: string } | undefined;
  if (aws?.credentialsFile) aws.credentialsFile = write(aws.credentialsFile, DEFAULT_CREDENTIALS);
  const admin = config.admin as { tokenFile?: string } | undefined;
  if (admin?.tokenFile) admin.tokenFile = write(admin.tokenFile, 'docs-snippet-admin-token-0123456789\n');
  const roles = config.rolesSource as { tokenFile?: string; tls?: Record<string, unknown> } | undefined;
  if (roles?.tokenFile) roles.tokenFile = write(roles.tokenFile, 'docs-snippet-roles-token\n');
  tls(roles?.tls);
  return write('proxy.yaml', stringify(config));
}

/** Every key path a config uses, arrays as "[]", the keys of maps (brokerPorts.map, modeOverrides) left out. */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`));
  if (typeof value !== 'object' || value === null) return [];
  if (prefix.endsWith('.map') || prefix.endsWith('.modeOverrides')) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return [path, ...keyPaths(v, path)];
  });
}

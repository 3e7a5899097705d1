import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { type ListenerConfig, type ProxyConfig, configSchema } from './schema.js';
import { pathText } from './zod-problems.js';

/** One thing wrong with a config file, with where it is. */
export interface ConfigProblem {
  file: string;
  /** Dotted path into the document, e.g. "listeners[0].port"; empty for the whole file. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.path ? `: ${p.path}` : ''}: ${p.message}`;
}

function zodProblems(file: string, error: ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({ file, path: pathText(issue.path), message: issue.message }));
}

/** Resolves a path given in the config relative to the config file's folder. */
function relativeTo(configFile: string, p: string): string {
  return isAbsolute(p) || /^[a-z]+:\/\//.test(p) ? p : resolve(dirname(configFile), p);
}

/** Listener-level checks that depend on several listeners at once (ports may not collide). */
function portProblems(file: string, listeners: ListenerConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const owners = new Map<string, string>();
  const claim = (bind: string, port: number, owner: string, path: string) => {
    const key = `${bind}:${port}`;
    const previous = owners.get(key);
    if (previous) problems.push({ file, path, message: `port ${port} is already used by ${previous}` });
    else owners.set(key, owner);
  };
  listeners.forEach((l, i) => {
    claim(l.bind, l.port, `listener "${l.name}" (bootstrap)`, `listeners[${i}].port`);
    if (l.brokerPorts && 'map' in l.brokerPorts) {
      for (const [nodeId, port] of Object.entries(l.brokerPorts.map)) {
        claim(l.bind, port, `listener "${l.name}" broker ${nodeId}`, `listeners[${i}].brokerPorts.map.${nodeId}`);
      }
    }
  });
  return problems;
}

/**
 * Reads and validates a proxy config (YAML; JSON is YAML too). Throws ConfigError listing every
 * problem with its file and path; file paths inside the config are made absolute.
 */
export function loadConfig(file: string): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => ({ file, path: '', message: e.message.split('\n')[0] })));
  }
  const parsed = configSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new ConfigError(zodProblems(file, parsed.error));
  const config = parsed.data;
  const problems = portProblems(file, config.listeners);
  if (problems.length) throw new ConfigError(problems);
  if (config.awsMskIam) config.awsMskIam.credentialsFile = relativeTo(file, config.awsMskIam.credentialsFile);
  if (config.authorization) config.authorization.policyFile = relativeTo(file, config.authorization.policyFile);
  if (config.accessRecording) config.accessRecording.directory = relativeTo(file, config.accessRecording.directory);
  if (config.admin?.tokenFile) config.admin.tokenFile = relativeTo(file, config.admin.tokenFile);
  const roles = config.rolesSource;
  if (roles?.tokenFile) roles.tokenFile = relativeTo(file, roles.tokenFile);
  if (roles?.snapshot) roles.snapshot.file = relativeTo(file, roles.snapshot.file);
  for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
    const path = roles?.tls?.[key];
    if (roles?.tls && path !== undefined) roles.tls[key] = relativeTo(file, path);
  }
  for (const tls of [...config.listeners.map((l) => l.tls), config.upstream.tls]) {
    if (!tls) continue;
    for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
      const path = tls[key];
      if (path !== undefined) tls[key] = relativeTo(file, path);
    }
  }
  if (config.oauthbearer?.jwksUrl.startsWith('file://')) {
    config.oauthbearer.jwksUrl = `file://${relativeTo(file, config.oauthbearer.jwksUrl.slice('file://'.length))}`;
  }
  return config;
}

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { POLICY_YAML } from './demo-policy.js';

export interface ProxySettings {
  bootstrapServers: string[];
  bootstrapPort: number;
  brokerPorts: Record<string, number>;
  jwksUrl: string;
  issuer: string;
}

export interface DemoFiles {
  configPath: string;
  policyPath: string;
}

/** Writes the policy and a proxy config that points at it, as a user would, into `dir`. */
export async function writeDemoFiles(dir: string, s: ProxySettings): Promise<DemoFiles> {
  const policyPath = join(dir, 'policy.yaml');
  const configPath = join(dir, 'proxy.yaml');
  await writeFile(policyPath, POLICY_YAML);
  await writeFile(configPath, proxyConfigYaml(s));
  return { configPath, policyPath };
}

function proxyConfigYaml(s: ProxySettings): string {
  const brokerPorts = Object.entries(s.brokerPorts)
    .map(([nodeId, port]) => `"${nodeId}": ${port}`)
    .join(', ');
  return `# kafka-auth-proxy demo config (see docs/configuration.md)
upstream:
  bootstrapServers: [${s.bootstrapServers.map((b) => `"${b}"`).join(', ')}]
listeners:
  - name: demo
    bind: 127.0.0.1
    port: ${s.bootstrapPort}
    advertisedHost: 127.0.0.1
    brokerPorts: { map: { ${brokerPorts} } }
    authentication: [OAUTHBEARER]
    mode: enforce
oauthbearer:
  jwksUrl: ${s.jwksUrl}
  issuer: ${s.issuer}
  audience: [kafka]
authorization:
  policyFile: ./policy.yaml   # relative to this file
logging:
  level: info
`;
}

import { readFileSync } from 'node:fs';
import { parseCredentialsFile } from '../auth/aws/credentials-file.js';
import { checkPolicyFile } from '../authz/check-policy.js';
import { readAdminToken } from '../observe/admin-token.js';
import { checkTlsFiles } from '../tls/certificate-files.js';
import { ConfigError, type ConfigProblem, loadConfig } from './load.js';
import type { ProxyConfig } from './schema.js';

/** What `kafka-auth-proxy check` found: problems stop the proxy from starting, warnings do not. */
export interface ConfigCheck {
  config?: ProxyConfig;
  problems: ConfigProblem[];
  warnings: string[];
}

/**
 * Everything the proxy would refuse at start: the config, the policy, the AWS credentials, the
 * admin token and every TLS file. No message quotes a secret.
 */
export function checkConfigFile(file: string): ConfigCheck {
  let config: ProxyConfig;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.problems, warnings: [] };
    throw e;
  }
  const tls = checkTlsFiles(file, config);
  const problems = [
    ...(config.authorization ? checkPolicyFile(config.authorization.policyFile) : []),
    ...(config.awsMskIam ? credentialsProblems(config.awsMskIam.credentialsFile) : []),
    ...tls.problems,
    ...adminTokenProblems(file, config),
  ];
  return { config, problems, warnings: tls.warnings };
}

function credentialsProblems(file: string): ConfigProblem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return [{ file, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }];
  }
  try {
    parseCredentialsFile(text, file);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

function adminTokenProblems(file: string, config: ProxyConfig): ConfigProblem[] {
  const tokenFile = config.admin?.tokenFile;
  if (!tokenFile) return [];
  try {
    readAdminToken(tokenFile);
    return [];
  } catch (e) {
    return [{ file, path: 'admin.tokenFile', message: (e as Error).message }];
  }
}

import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigProblem } from '../config/load.js';
import { parsePolicy, unreadable } from './policy-file.js';

/** Every problem with a policy file, for `kafka-auth-proxy check`; empty if the proxy would load it. */
export function checkPolicyFile(file: string): ConfigProblem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return [unreadable(file, e)];
  }
  try {
    parsePolicy(text, file);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

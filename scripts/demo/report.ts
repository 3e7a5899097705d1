import { readFile } from 'node:fs/promises';
import type { DemoStack } from './stack.js';

/** One logged request's denials: its first few resources. */
interface DenialLine {
  msg?: string;
  principal?: string;
  api?: string;
  resources?: { resourceType: string; resourceName: string; operation: string }[];
}

/** "Where to look next": the files the demo wrote, and the denials the proxy logged. */
export async function printReport(stack: DemoStack, say: (line: string) => void): Promise<void> {
  say('Where to look next');
  say(`  policy        ${stack.policyPath}`);
  say(`  proxy config  ${stack.configPath}`);
  say(`  proxy log     ${stack.proxyLogPath}`);
  say(`  issuer log    ${stack.issuerLogPath}`);
  const denials = await loggedDenials(stack.proxyLogPath);
  say(`  denials in the proxy log (${denials.length}):`);
  for (const d of denials) {
    for (const r of d.resources ?? []) say(`    principal=${d.principal} api=${d.api} ${r.resourceType}=${r.resourceName} operation=${r.operation}`);
  }
  say('  docs/configuration.md, docs/authorization.md and docs/migration.md');
}

async function loggedDenials(logPath: string): Promise<DenialLine[]> {
  const lines = (await readFile(logPath, 'utf8')).split('\n').filter(Boolean);
  return lines.map((line) => JSON.parse(line) as DenialLine).filter((l) => l.msg === 'authorization denied');
}

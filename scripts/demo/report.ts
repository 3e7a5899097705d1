import { readFile } from 'node:fs/promises';
import type { DemoStack } from './stack.js';

interface DenialLine {
  msg?: string;
  principal?: string;
  api?: string;
  resourceType?: string;
  resourceName?: string;
  operation?: string;
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
    say(`    principal=${d.principal} api=${d.api} ${d.resourceType}=${d.resourceName} operation=${d.operation}`);
  }
  say('  README.md: the "Configuration", "Policy" and "Migration" sections');
}

async function loggedDenials(logPath: string): Promise<DenialLine[]> {
  const lines = (await readFile(logPath, 'utf8')).split('\n').filter(Boolean);
  return lines.map((line) => JSON.parse(line) as DenialLine).filter((l) => l.msg === 'authorization denied');
}

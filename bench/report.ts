import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function machineDescription(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Writes bench/results/<name>.json and <name>.md and returns the markdown. */
export function writeResults(name: string, command: string, data: unknown, table: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const when = new Date().toISOString();
  const machine = machineDescription();
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify({ when, machine, command, data }, (_, v) => (typeof v === 'bigint' ? String(v) : v), 2)}\n`);
  const md = `# ${name}\n\n${when} on ${machine}\n\nCommand: \`${command}\`\n\n${table}\n`;
  writeFileSync(join(RESULTS_DIR, `${name}.md`), md);
  return md;
}

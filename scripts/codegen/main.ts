/**
 * Generates src/protocol/generated/ from Kafka's JSON message specs.
 *   npm run codegen            write the files
 *   npm run codegen -- --check exit 1 when the committed files differ from a fresh generation
 * The specs are read from ../shared/kafka-protocol/3.9 (override with --specs DIR) and are never
 * copied into this repository.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageEmitter, checkSupported, hasScanner } from './emit-message.js';
import { checkContiguousKeys, emitApis, emitEntityFields, emitIndex, emitSchema } from './emit-tables.js';
import { loadApiSpecs } from './spec.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(repoRoot, 'src/protocol/generated');

function parseArgs(argv: string[]): { check: boolean; specsDir: string } {
  const specsIndex = argv.indexOf('--specs');
  return {
    check: argv.includes('--check'),
    specsDir: specsIndex >= 0 ? resolve(argv[specsIndex + 1]) : resolve(repoRoot, '../shared/kafka-protocol/3.9'),
  };
}

function generate(specsDir: string): Map<string, string> {
  const specs = loadApiSpecs(specsDir);
  checkContiguousKeys(specs);
  const files = new Map<string, string>();
  for (const spec of specs) {
    checkSupported(spec);
    files.set(`messages/${spec.name}.ts`, new MessageEmitter(spec).emit());
  }
  files.set('apis.ts', emitApis(specs));
  files.set('entity-fields.ts', emitEntityFields(specs));
  files.set('schema.ts', emitSchema(specs));
  files.set('index.ts', emitIndex(specs, new Set(specs.filter(hasScanner).map((s) => s.name))));
  return files;
}

function listExisting(): string[] {
  if (!existsSync(outDir)) return [];
  const top = readdirSync(outDir).filter((f) => f.endsWith('.ts'));
  const messagesDir = join(outDir, 'messages');
  const messages = existsSync(messagesDir) ? readdirSync(messagesDir).map((f) => `messages/${f}`) : [];
  return [...top, ...messages];
}

function main(): void {
  const { check, specsDir } = parseArgs(process.argv.slice(2));
  if (!existsSync(specsDir)) {
    console.error(`codegen: Kafka message specs not found at ${specsDir} (pass --specs DIR)`);
    process.exit(2);
  }
  const files = generate(specsDir);
  if (check) {
    const stale = [...files].filter(([path, text]) => {
      const file = join(outDir, path);
      return !existsSync(file) || readFileSync(file, 'utf8') !== text;
    });
    const extra = listExisting().filter((path) => !files.has(path));
    for (const [path] of stale) console.error(`codegen: out of date: src/protocol/generated/${path}`);
    for (const path of extra) console.error(`codegen: not generated from any spec: src/protocol/generated/${path}`);
    if (stale.length || extra.length) {
      console.error('codegen: run `npm run codegen` and commit the result');
      process.exit(1);
    }
    console.log(`codegen: ${files.size} generated files are up to date`);
    return;
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'messages'), { recursive: true });
  for (const [path, text] of files) writeFileSync(join(outDir, path), text);
  console.log(`codegen: wrote ${files.size} files to src/protocol/generated`);
}

main();

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configKeys, pageWithReference, REFERENCE_PAGE } from '../../scripts/docs/config-reference.js';
import { parseCredentialsFile } from '../../src/auth/aws/credentials-file.js';
import { checkPolicyFile } from '../../src/authz/check-policy.js';
import { checkConfigFile } from '../../src/config/check-config.js';
import { formatProblem } from '../../src/config/load.js';
import { completeFragment, docFiles, keyPaths, REPO, snippets, writeConfigWithFiles } from '../support/doc-snippets.js';

// Every YAML snippet of the README and docs/ is read the way the proxy reads it: a config (or a
// section of one, completed with the rest) goes through what `kafka-auth-proxy check` does, a
// policy through the policy check, a credentials file through the credentials parser.
const all = docFiles().flatMap(snippets);

function problemsOf(where: string, text: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kap-docs-'));
  const parsed = parse(text) as Record<string, unknown>;
  const config = writeConfigWithFiles(dir, parsed.upstream && parsed.listeners ? parsed : completeFragment(parsed));
  return checkConfigFile(config).problems.map((p) => `${where}: ${formatProblem(p)}`);
}

describe('documentation snippets', () => {
  it('has snippets of every kind in the docs', () => {
    const kinds = new Set(all.map((s) => s.kind));
    for (const kind of ['config', 'config-fragment', 'policy', 'aws-credentials']) expect(kinds, kind).toContain(kind);
  });

  it.each(all.filter((s) => s.kind === 'config' || s.kind === 'config-fragment').map((s) => [s.where, s] as const))('%s is a config the proxy accepts', (where, s) => {
    expect(problemsOf(where, s.text)).toEqual([]);
  });

  it.each(all.filter((s) => s.kind === 'policy').map((s) => [s.where, s] as const))('%s is a policy the proxy accepts', (where, s) => {
    const file = join(mkdtempSync(join(tmpdir(), 'kap-docs-')), 'policy.yaml');
    writeFileSync(file, s.text);
    expect(checkPolicyFile(file).map(formatProblem)).toEqual([]);
  });

  it.each(all.filter((s) => s.kind === 'aws-credentials').map((s) => [s.where, s] as const))('%s is a credentials file the proxy accepts', (where, s) => {
    expect(() => parseCredentialsFile(s.text, where)).not.toThrow();
  });

  it('would catch a snippet the proxy refuses', () => {
    expect(problemsOf('broken', 'listeners:\n  - name: x\n    port: 70000\n    authentication: none\n').join('\n')).toMatch(/listeners\[0\]\.port/);
  });

  it('shows every config key in at least one checked example', () => {
    const shown = new Set(all.filter((s) => s.kind === 'config' || s.kind === 'config-fragment').flatMap((s) => keyPaths(parse(s.text))));
    const missing = configKeys()
      .map((k) => k.path)
      .filter((path) => !shown.has(path));
    expect(missing).toEqual([]);
  });

  it('keeps the configuration reference in step with the schema', () => {
    const page = readFileSync(REFERENCE_PAGE, 'utf8');
    expect(pageWithReference(page) === page, 'docs/configuration.md is out of date: run npm run docs:config').toBe(true);
  });

  it('accepts the README config with the real `kafka-auth-proxy check`', { timeout: 60_000 }, () => {
    const readme = all.find((s) => s.where.startsWith('README.md') && s.kind === 'config');
    expect(readme).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'kap-docs-'));
    const config = writeConfigWithFiles(dir, parse(readme!.text) as Record<string, unknown>);
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('src/cli.ts', REPO)), 'check', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/OK \(1 listener\)/);
  });
});

describe('documentation links', () => {
  const slug = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replaceAll(' ', '-');
  const anchorsOf = (file: string): Set<string> => {
    const anchors = new Set<string>();
    let inFence = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('```')) inFence = !inFence;
      const heading = /^#+ (.*)$/.exec(line);
      if (heading && !inFence) anchors.add(slug(heading[1]));
    }
    return anchors;
  };

  it.each(docFiles())('%s links only to files and headings that exist', (file) => {
    const from = fileURLToPath(new URL(file, REPO));
    const broken: string[] = [];
    for (const [, link] of readFileSync(from, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(link)) continue;
      const [path, anchor] = link.split('#');
      const target = path ? join(from, '..', path) : from;
      if (!existsSync(target)) broken.push(`${link}: no such file`);
      else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${link}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});

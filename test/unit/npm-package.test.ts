import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// The package as npm would publish it: packed (which builds dist/), installed into an empty
// project from the tarball, and run as `npx kafka-auth-proxy`.
const repo = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let tarball: string;
let packed: { files: { path: string }[] };
let project: string;

function inProject(args: string[]): string {
  return execFileSync('npx', ['--no-install', ...args], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

describe('the npm package', () => {
  beforeAll(() => {
    const out = mkdtempSync(join(tmpdir(), 'kap-pack-'));
    [packed] = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', out], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }));
    tarball = join(out, (packed as unknown as { filename: string }).filename);
    project = mkdtempSync(join(tmpdir(), 'kap-npx-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'npx-check', version: '1.0.0', private: true }));
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  }, 600_000);

  it('holds the built proxy and its README, not the sources or tests', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/cli.js');
    expect(paths).toContain('package.json');
    expect(paths).toContain('README.md');
    expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('test/') || p.startsWith('bench/') || p.startsWith('.cache/'))).toEqual([]);
  });

  it('declares its command and the Node versions it runs on', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/kafka-auth-proxy/package.json'), 'utf8'));
    expect(manifest.bin).toEqual({ 'kafka-auth-proxy': 'dist/cli.js' });
    expect(manifest.engines.node).toBe('>=20');
    expect(readFileSync(join(project, 'node_modules/kafka-auth-proxy/dist/cli.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('runs as npx kafka-auth-proxy: help, init and check', () => {
    expect(inProject(['kafka-auth-proxy', '--help'])).toMatch(/kafka-auth-proxy --config proxy\.yaml/);
    expect(inProject(['kafka-auth-proxy', 'init', '--dir', 'starter', '--auth', 'both', '--migration'])).toContain('wrote');
    expect(inProject(['kafka-auth-proxy', 'check', '--config', 'starter/proxy.yaml'])).toMatch(/starter\/proxy\.yaml: OK \(2 listeners\)/);
  });
});

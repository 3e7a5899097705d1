import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { processTree, treeCpuMs, treeOpenFiles, treeRssBytes } from '../../bench/process-tree.js';

// The benches measure the proxy's supervisor and its workers through these: a figure of the supervisor alone would miss all the forwarding.
describe.runIf(existsSync('/proc/self/stat'))('bench process tree', () => {
  it('sums a process and its descendants, grandchildren included', async () => {
    // A shell whose child burns CPU for a moment, then sleeps: the grandchild of this process.
    const shell = spawn('sh', ['-c', 'node -e "const t = Date.now(); while (Date.now() - t < 300); setTimeout(() => {}, 30000)" & wait'], { stdio: 'ignore' });
    try {
      let tree: number[] = [];
      for (let i = 0; i < 100 && tree.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        tree = processTree(shell.pid!);
      }
      expect(tree[0]).toBe(shell.pid);
      expect(tree).toHaveLength(2);
      expect(processTree(process.pid)).toEqual(expect.arrayContaining(tree));
      await new Promise((r) => setTimeout(r, 500));
      const cpu = treeCpuMs(shell.pid!)!;
      expect(cpu.processes).toBe(2);
      // The busy loop ran in the grandchild, not in the shell.
      expect(cpu.totalMs - cpu.rootMs).toBeGreaterThanOrEqual(200);
      // A busy loop is the process's own time, not the kernel's.
      expect(cpu.userMs + cpu.systemMs).toBeCloseTo(cpu.totalMs, 6);
      expect(cpu.userMs).toBeGreaterThan(cpu.systemMs);
      expect(treeRssBytes(shell.pid!)).toBeGreaterThan(10 * 2 ** 20);
      expect(treeOpenFiles(shell.pid!)).toBeGreaterThan(0);
    } finally {
      const [grandchild] = processTree(shell.pid!).slice(1);
      if (grandchild) process.kill(grandchild, 'SIGKILL');
      shell.kill('SIGKILL');
      await once(shell, 'exit');
    }
    expect(processTree(shell.pid!)).toEqual([]);
    expect(treeCpuMs(shell.pid!)).toBeUndefined();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { pickFreePortBase, pickFreePorts } from '../../scripts/kafka/ports.js';

describe('picking free loopback ports', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never hands out a port twice in one process, even before the first is bound', async () => {
    // The same random draw again and again, then others: only the first pick may take that port.
    const draws = [0.25, 0.25, 0.25, 0.5, 0.25, 0.75];
    vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.9);
    const [first] = await pickFreePorts(1);
    const [second] = await pickFreePorts(1);
    expect(second).not.toBe(first);
  });

  it('never hands out a base whose ports an earlier pick took', async () => {
    vi.spyOn(Math, 'random').mockReturnValueOnce(0.3).mockReturnValueOnce(0.3).mockReturnValueOnce(0.6);
    const [port] = await pickFreePorts(1);
    const base = await pickFreePortBase([0, 1]);
    expect([base, base + 1]).not.toContain(port);
  });

  it('gives distinct ports within one call', async () => {
    vi.spyOn(Math, 'random').mockReturnValueOnce(0.4).mockReturnValueOnce(0.4).mockReturnValueOnce(0.6);
    const ports = await pickFreePorts(2);
    expect(new Set(ports).size).toBe(2);
  });
});

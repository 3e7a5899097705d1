import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

const LOWEST_PORT = 10_000;

/**
 * Picks `count` distinct free loopback ports. They come from below the kernel's
 * ephemeral range on purpose: a broker restarted by a failover test must rebind
 * its old port, and an ephemeral port could meanwhile have been handed to some
 * outgoing client connection. Random choice keeps concurrent runs apart.
 */
export async function pickFreePorts(count: number): Promise<number[]> {
  const highest = ephemeralRangeStart() - 1;
  const picked: number[] = [];
  for (let attempts = 0; picked.length < count; attempts++) {
    if (attempts > 1000) throw new Error(`no free loopback port found in ${LOWEST_PORT}-${highest}`);
    const port = LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1));
    if (await claimIfFree([port])) picked.push(port);
  }
  return picked;
}

/**
 * Picks a base port such that base + id is free for every id in `offsets`, for a proxy
 * listener that serves broker node N on base + N.
 */
export async function pickFreePortBase(offsets: number[]): Promise<number> {
  const highest = ephemeralRangeStart() - 1 - Math.max(...offsets);
  for (let attempts = 0; attempts < 1000; attempts++) {
    const base = LOWEST_PORT + Math.floor(Math.random() * (highest - LOWEST_PORT + 1));
    if (await claimIfFree(offsets.map((offset) => base + offset))) return base;
  }
  throw new Error(`no free run of loopback ports found for offsets ${offsets.join(', ')}`);
}

function ephemeralRangeStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (start > LOWEST_PORT + 1000) return start;
  } catch {
    // Not Linux: fall through to the IANA ephemeral range start.
  }
  return 49_152;
}

/**
 * Ports this process has handed out. A caller often picks several ports (or bases) before it
 * binds any of them; were a port handed out twice, the second bind would fail with EADDRINUSE.
 */
const handedOut = new Set<number>();

/** Claims `ports` if none was handed out before and all are free now. */
async function claimIfFree(ports: number[]): Promise<boolean> {
  if (ports.some((port) => handedOut.has(port))) return false;
  // Claimed while they are checked, so a concurrent pick cannot take them meanwhile.
  for (const port of ports) handedOut.add(port);
  for (const port of ports) {
    if (!(await isFree(port))) {
      for (const p of ports) handedOut.delete(p);
      return false;
    }
  }
  return true;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

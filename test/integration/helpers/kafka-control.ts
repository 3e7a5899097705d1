import { inject } from 'vitest';

/** Stops a broker of the shared cluster: controlled shutdown, or a crash (SIGKILL) with `kill`. */
export function stopBroker(nodeId: number, opts: { kill?: boolean } = {}): Promise<void> {
  return control(`/brokers/${nodeId}/stop${opts.kill ? '?kill=1' : ''}`);
}

/** Restarts a stopped broker (same ports and data); resolves once clients see it again. */
export function startBroker(nodeId: number): Promise<void> {
  return control(`/brokers/${nodeId}/start`);
}

async function control(path: string): Promise<void> {
  const res = await fetch(inject('kafka').controlUrl + path, { method: 'POST' });
  if (!res.ok) throw new Error(`Kafka control ${path} failed (${res.status}): ${await res.text()}`);
}

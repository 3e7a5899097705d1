import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls Metadata through a real client until each of `servers` lists every id in
 * `nodeIds` (KRaft lists only unfenced brokers). Every server is asked itself
 * because each broker's metadata cache catches up on its own schedule. Returns
 * the ids still missing from some server's answer at `deadline`.
 */
export async function waitForBrokers(servers: string[], nodeIds: number[], deadline: number): Promise<number[]> {
  for (const server of servers) {
    const missing = await waitUntilListed(server, nodeIds, deadline);
    if (missing.length > 0) return missing;
  }
  return [];
}

async function waitUntilListed(server: string, nodeIds: number[], deadline: number): Promise<number[]> {
  // With a single bootstrap server, a fresh client sends its Metadata requests there.
  const kafka = new Kafka({
    clientId: 'kafka-harness-readiness',
    brokers: [server],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  let missing = nodeIds;
  while (Date.now() < deadline) {
    // A fresh admin per attempt: it must not talk to brokers learned from earlier answers.
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { brokers } = await admin.describeCluster();
      const seen = new Set(brokers.map((b) => b.nodeId));
      missing = nodeIds.filter((id) => !seen.has(id));
      if (missing.length === 0) return [];
    } catch {
      // Not reachable yet; retry until the deadline.
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(250);
  }
  return missing;
}

import { type Admin, Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

const TIMEOUT_MS = 30_000;

/**
 * Setup, straight against the broker: creates the topics and waits until the broker reports a
 * leader for each. kafkajs' own waitForLeaders gives up if the broker's metadata cache has not
 * caught up with the controller yet.
 */
export async function createTopics(bootstrapServers: string[], topics: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'demo-setup', brokers: bootstrapServers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: false });
    const deadline = Date.now() + TIMEOUT_MS;
    while (!(await haveLeaders(admin, topics))) {
      if (Date.now() > deadline) throw new Error(`the broker has no leader for ${topics.join(', ')} after ${TIMEOUT_MS / 1000} s`);
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

async function haveLeaders(admin: Admin, topics: string[]): Promise<boolean> {
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    return metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
  } catch {
    return false; // UNKNOWN_TOPIC_OR_PARTITION until the broker has caught up
  }
}

import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';

/**
 * Creates a topic on the shared cluster and waits until every live broker reports
 * a leader for each partition. kafkajs' `waitForLeaders` is not enough on KRaft:
 * it gives up on UNKNOWN_TOPIC_OR_PARTITION, and each broker learns about a new
 * topic from the metadata log on its own schedule, so a client asking a lagging
 * broker right after creation fails.
 */
export async function createTopic(topic: ITopicConfig, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const live = await withAdmin(inject('kafka').bootstrapServers, async (admin) => {
    await admin.createTopics({ topics: [topic], waitForLeaders: false });
    return (await admin.describeCluster()).brokers.map((b) => `${b.host}:${b.port}`);
  });
  // A fresh client with a single bootstrap server sends its Metadata requests to that broker.
  for (const server of live) {
    await withAdmin([server], async (admin) => {
      while (!(await hasLeaders(admin, topic.topic))) {
        if (Date.now() > deadline) throw new Error(`broker ${server} has no leaders for ${topic.topic} after ${timeoutMs} ms`);
        await sleep(100);
      }
    });
  }
}

async function hasLeaders(admin: Admin, topic: string): Promise<boolean> {
  try {
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    return metadata.partitions.length > 0 && metadata.partitions.every((p) => p.leader >= 0);
  } catch {
    return false; // UNKNOWN_TOPIC_OR_PARTITION until this broker has caught up
  }
}

async function withAdmin<T>(brokers: string[], use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'test-topics', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

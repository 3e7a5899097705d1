import { Kafka, logLevel, type Admin } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

const LEADER_TIMEOUT_MS = 30_000;

/** Creates benchmark topics through one admin connection to the broker itself (never through a path under test). */
export class TopicMaker {
  private constructor(private readonly admin: Admin) {}

  static async connect(bootstrap: string): Promise<TopicMaker> {
    const admin = new Kafka({ clientId: 'bench-topics', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    return new TopicMaker(admin);
  }

  /** Creates 1-partition topics and waits for their leaders, so no first send waits for metadata. */
  async create(...topics: string[]): Promise<void> {
    await this.admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: false });
    const deadline = Date.now() + LEADER_TIMEOUT_MS;
    for (const topic of topics) {
      while (!(await this.hasLeader(topic))) {
        if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader after ${LEADER_TIMEOUT_MS} ms`);
        await sleep(50);
      }
    }
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }

  private async hasLeader(topic: string): Promise<boolean> {
    try {
      const [metadata] = (await this.admin.fetchTopicMetadata({ topics: [topic] })).topics;
      return metadata.partitions.length > 0 && metadata.partitions.every((p) => p.leader >= 0);
    } catch {
      return false; // UNKNOWN_TOPIC_OR_PARTITION until the broker's metadata cache has the topic
    }
  }
}

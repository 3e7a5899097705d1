import type { Kafka } from 'kafkajs';
import { expect } from 'vitest';

/** Produces `count` records (values v0..) with kafkajs and consumes every one back with a fresh group. */
export async function kafkajsRoundTrip(kafka: Kafka, topic: string, count: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `v${i}` })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Set<string>();
  await consumer.run({ eachMessage: async ({ message }) => void seen.add(String(message.value)) });
  await expect.poll(() => seen.size, { timeout: 30_000 }).toBe(count);
  await consumer.disconnect();
}

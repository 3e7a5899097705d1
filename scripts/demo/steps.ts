import type { Consumer, Kafka } from 'kafkajs';
import { type ClientSetup, kafkaFor } from './demo-client.js';
import { ANALYTICS, BILLING, GROUP, TOPICS } from './demo-policy.js';
import { type Outcome, allowed, failed, fromError } from './outcome.js';

export interface Step {
  title: string;
  expected: Outcome['verdict'];
  run(): Promise<Outcome>;
}

const ORDER = { key: 'order-1001', value: '{"order":1001,"amount":42.50,"currency":"EUR"}' };
/** How long a read waits for a first message or an error; joining a group takes a few seconds. */
const READ_TIMEOUT_MS = 30_000;

/** The scripted client's steps, in order: the read of "orders" consumes what the first step wrote. */
export function demoSteps(setup: ClientSetup): Step[] {
  const billing = kafkaFor(setup, BILLING);
  const analytics = kafkaFor(setup, ANALYTICS);
  return [
    { title: `${BILLING} writes to "${TOPICS.orders}"`, expected: 'allowed', run: () => write(billing, TOPICS.orders) },
    { title: `${BILLING} writes to "${TOPICS.payments}"`, expected: 'denied', run: () => write(billing, TOPICS.payments) },
    { title: `${ANALYTICS} reads "${TOPICS.payments}" (group ${GROUP})`, expected: 'denied', run: () => read(analytics, TOPICS.payments) },
    { title: `${ANALYTICS} reads "${TOPICS.orders}" (group ${GROUP})`, expected: 'allowed', run: () => read(analytics, TOPICS.orders) },
  ];
}

async function write(kafka: Kafka, topic: string): Promise<Outcome> {
  // No retries: kafkajs would otherwise back off and retry a failed send for about half a minute.
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    const [written] = await producer.send({ topic, messages: [ORDER] });
    return allowed(`written to partition ${written.partition} at offset ${written.baseOffset}`);
  } catch (e) {
    return fromError(e);
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

async function read(kafka: Kafka, topic: string): Promise<Outcome> {
  // A crashed consumer must stay down: restarting would hide the error behind a retry loop. A few
  // quick retries of retriable errors only (kafkajs never retries an authorization error) ride
  // out a fresh broker's group coordinator still loading (NOT_COORDINATOR) on a busy machine.
  const consumer = kafka.consumer({ groupId: GROUP, maxWaitTimeInMs: 250, retry: { retries: 3, initialRetryTime: 300, restartOnFailure: async () => false } });
  try {
    await consumer.connect();
    // A topic the principal may not describe fails here already, in the Metadata request.
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return await firstMessage(consumer);
  } catch (e) {
    return fromError(e);
  } finally {
    // Leaves the group, so the next reader in it does not wait for this member's session to expire.
    await consumer.disconnect().catch(() => {});
  }
}

/** The first message, or the error that stopped the consumer (a denied Fetch or OffsetFetch), or a timeout. */
function firstMessage(consumer: Consumer): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(failed(`neither a message nor an error within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
    const done = (outcome: Outcome): void => {
      clearTimeout(timer);
      resolve(outcome);
    };
    consumer.on(consumer.events.CRASH, ({ payload }) => done(fromError(payload.error)));
    consumer
      .run({
        eachMessage: async ({ partition, message }) =>
          done(allowed(`got key=${String(message.key)} value=${String(message.value)} (partition ${partition}, offset ${message.offset})`)),
      })
      .catch((e: unknown) => done(fromError(e)));
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEYS } from '../src/protocol/generated/apis.js';
import { REQUEST_CODECS, RESPONSE_CODECS } from '../src/protocol/generated/index.js';
import type { ProduceResponse } from '../src/protocol/generated/messages/ProduceResponse.js';
import { Writer } from '../src/protocol/writer.js';
import { readResponseHeader } from '../src/protocol/headers.js';
import { Reader } from '../src/protocol/reader.js';
import type { BrokerDialer } from '../src/proxy/broker-dialer.js';
import { KafkaConnection } from '../src/proxy/kafka-connection.js';
import { recordBatch } from '../test/support/record-batch.js';
import { median } from './e2e-summary.js';
import { authenticate, oauthBearerMessage } from './sasl-client.js';

export interface ProbeTarget {
  host: string;
  port: number;
  /** An OAUTHBEARER token, where the path authenticates. */
  token?: () => Promise<string>;
  topic: string;
  /** How to connect: plaintext unless given (TLS on proxy+tls). */
  dialer?: BrokerDialer;
}

export interface ProbeResult {
  samples: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
}

const PRODUCE_VERSION = 9;
const RECORD_BYTES = 1024;

/**
 * Round trips of one Produce request (acks=1, one 1 KiB record) at a time on a connection of
 * its own, timed with the monotonic clock in microseconds: what one request waits for on the
 * path, at a resolution ProducerPerformance (whole milliseconds) cannot give. Sends `perSecond`
 * requests a second for `seconds`, after `delaySeconds`.
 */
export async function probeProduceLatency(target: ProbeTarget, delaySeconds: number, seconds: number, perSecond: number): Promise<ProbeResult> {
  await sleep(delaySeconds * 1000);
  const conn = await KafkaConnection.connect(target.host, target.port, undefined, target.dialer);
  try {
    if (target.token) await authenticate(conn, 'OAUTHBEARER', oauthBearerMessage(await target.token()));
    const body = new Writer();
    const request = {
      transactionalId: null,
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{ name: target.topic, partitionData: [{ index: 0, records: recordBatch(['x'.repeat(RECORD_BYTES)]) }] }],
    };
    REQUEST_CODECS[API_KEYS.Produce].write(body, request, PRODUCE_VERSION);
    const bytes = body.toBuffer();
    const micros: number[] = [];
    const interval = 1000 / perSecond;
    const started = performance.now();
    for (let next = started; performance.now() - started < seconds * 1000; next += interval) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      const sent = process.hrtime.bigint();
      const frame = await conn.sendRaw(API_KEYS.Produce, PRODUCE_VERSION, bytes);
      micros.push(Number(process.hrtime.bigint() - sent) / 1000);
      checkProduced(frame, target.topic);
    }
    const sorted = micros.sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
    return { samples: sorted.length, p50Us: Math.round(median(sorted)), p99Us: at(0.99), p999Us: at(0.999) };
  } finally {
    conn.close();
  }
}

function checkProduced(frame: Buffer, topic: string): void {
  const r = new Reader(frame, 4);
  readResponseHeader(r, API_KEYS.Produce, PRODUCE_VERSION);
  const response = RESPONSE_CODECS[API_KEYS.Produce].read(r, PRODUCE_VERSION) as ProduceResponse;
  const errorCode = response.responses[0]?.partitionResponses[0]?.errorCode;
  if (errorCode !== 0) throw new Error(`latency probe: producing to ${topic} failed with error code ${errorCode}`);
}

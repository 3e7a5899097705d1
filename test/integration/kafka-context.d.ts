import type { KafkaBroker } from '../../scripts/kafka/cluster.js';

/** What global-setup.ts provides to integration tests under the key 'kafka'. */
export interface KafkaContext {
  /** "127.0.0.1:port" of every broker. */
  bootstrapServers: string[];
  brokers: KafkaBroker[];
  /** Base URL of the control server; use helpers/kafka-control.ts rather than calling it directly. */
  controlUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: KafkaContext;
  }
}
